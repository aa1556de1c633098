import { type Logger, type LoggerOptions, pino } from "pino";
import { LogSink } from "./logSink.js";
import type { LogLevel } from "./options/schema.js";

export { LOG_FLUSH_MS } from "./logSink.js";

export type { Logger };

const PINO_LEVEL: Record<LogLevel, pino.Level> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
};

const LEVEL_LABEL: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO ",
  40: "WARN ",
  50: "ERROR",
  60: "FATAL",
};

/**
 * Where a secret could sit in a log object; pino replaces these values. Explicit paths only:
 * wildcard paths (`*.password`) made every log line ~8× slower (fast-redact walks each object),
 * and no log call passes a nested object holding a secret except these.
 */
export const REDACT_PATHS = [
  "password",
  "mqtt_password",
  "token",
  "authorization",
  "options.mqtt_password",
  "settings.password",
  "mqtt.password",
  "headers.authorization",
];

/** Keys shown in a line's fixed part, or not at all. */
const OMITTED = new Set(["time", "level", "msg", "module", "pid", "hostname", "err"]);

function formatValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/**
 * One readable line per record for the add-on's Log tab: `time LEVEL [module] msg key=value`.
 * Written by hand (a few lines) instead of running pino-pretty in-process, which pino's docs
 * advise against in production.
 */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  return prettyRecord(record);
}

/** A record (pino's fields: time, level, module, msg, …) as one readable line. */
function prettyRecord(record: Record<string, unknown>): string {
  const { time, level, module } = record;
  const stamp = typeof time === "number" ? new Date(time).toISOString().replace("T", " ") : "";
  const label = LEVEL_LABEL[Number(level)] ?? String(level);
  let line = `${stamp} ${label}${typeof module === "string" ? ` [${module}]` : ""} ${String(record.msg ?? "")}`;
  // A plain loop: this runs for every line, and per-line arrays showed in the profile.
  for (const key in record) {
    const value = record[key];
    // Skipped as pino's JSON skips it, so both paths give the same line.
    if (OMITTED.has(key) || value === undefined) continue;
    line += ` ${key}=${formatValue(value)}`;
  }
  if (record.err !== undefined) line += `\n${errorText(record.err)}`;
  return line;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  return typeof value === "number" ? String(value) : undefined;
}

interface ErrorParts {
  name: string;
  code: string | undefined;
  /** Undefined when neither the error nor anything inside it has a message. */
  message: string | undefined;
}

/**
 * Name, code and message of a live error or of pino's serialized one (`type`,
 * `aggregateErrors`). Where the message is empty — an AggregateError such as Node's
 * ECONNREFUSED for a host with two addresses — the messages of the errors inside it, else of
 * its cause.
 */
function errorParts(e: Record<string, unknown>): ErrorParts {
  // pino types a plain object "Object": its `name`, or "Error", reads better.
  const type = text(e.type);
  const name = (type !== "Object" ? type : undefined) ?? text(e.name) ?? "Error";
  // pino joins the messages of causes with ": ", also after an empty one.
  let message = text(typeof e.message === "string" ? e.message.replace(/^: /, "") : e.message);
  if (message === undefined) {
    const inner = Array.isArray(e.aggregateErrors) ? e.aggregateErrors : e.errors;
    const reasons = Array.isArray(inner)
      ? inner.map(
          (i: unknown) => text((i as { message?: unknown } | null)?.message) ?? describeError(i),
        )
      : [];
    if (reasons.length > 0) message = [...new Set(reasons)].join("; ");
    else if (e.cause !== undefined) message = describeError(e.cause);
  }
  return { name, code: text(e.code), message };
}

/** An error's reason in one line, never empty: `Name [CODE]: message`. */
export function describeError(err: unknown): string {
  if (err === null || typeof err !== "object") return text(err) ?? "Error (no message)";
  const { name, code, message } = errorParts(err as Record<string, unknown>);
  const head = code && !message?.includes(code) ? `${name} [${code}]` : name;
  if (message !== undefined) return `${head}: ${message}`;
  return code ? head : `${head} (no message)`;
}

/**
 * The lines under a record that carries an error: its reason, then the frames of its stack.
 * The stack's own first line is not used: it repeats name and message, and says nothing when
 * the message is empty (the reason was lost that way: issue 12 point 6).
 */
function errorText(err: unknown): string {
  const stack = err !== null && typeof err === "object" ? (err as { stack?: unknown }).stack : "";
  const lines = typeof stack === "string" ? stack.split("\n") : [];
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  const frames = firstFrame < 0 ? [] : lines.slice(firstFrame);
  return [describeError(err), ...frames].join("\n");
}

/**
 * pino writes one JSON record per call; this rewrites it as a readable line. A plain destination
 * object rather than a stream.Writable: the stream machinery cost more than the formatting.
 */
function prettyDestination(out: NodeJS.WritableStream): pino.DestinationStream {
  return {
    write(record: string): void {
      const json = record.endsWith("\n") ? record.slice(0, -1) : record;
      out.write(`${prettyLine(json)}\n`);
    },
  };
}

export interface LogSetup {
  level: LogLevel;
  /** `pretty` (default) for humans, `json` for machines (LOG_FORMAT=json). */
  format?: "pretty" | "json";
  /** Where lines go; default stdout. Tests pass a collecting stream. */
  destination?: NodeJS.WritableStream;
}

/**
 * stdout for the log, through a LogSink (batched, bounded, never throwing). stderr gets an error
 * listener too: Node writes its warnings there, and an EPIPE on it would crash the process.
 */
function stdoutSink(format: "pretty" | "json"): NodeJS.WritableStream {
  process.stderr.on("error", () => {});
  const sink = new LogSink({
    out: process.stdout,
    droppedLine: (count) => {
      const msg = `${count} log line(s) dropped: the log's reader was too slow or stuck`;
      const record = { level: 40, time: Date.now(), module: "log", dropped: count, msg };
      return `${format === "json" ? JSON.stringify(record) : prettyRecord(record)}\n`;
    },
  });
  process.on("exit", () => sink.flush());
  return { write: (line: string) => sink.write(line) } as NodeJS.WritableStream;
}

/** Where a logger made by createLogger writes pretty lines; absent for JSON loggers. */
const prettyOutputs = new WeakMap<Logger, NodeJS.WritableStream>();

/** Fields of a fast line: plain values, and never a secret (nothing here is redacted). */
export type FastFields = Record<string, string | number | null | undefined>;

/**
 * An info-level writer for the hottest line — one per ECU upload — of `module`'s child of
 * `logger`. In the pretty format it formats the line straight from its fields, skipping pino's
 * JSON and the parse back (a CPU profile put those at ~6 % of the proxy's time under load). The
 * line is the one pino would give; in the JSON format pino writes it.
 */
export function fastInfo(
  logger: Logger,
  module: string,
): (fields: FastFields, msg: string) => void {
  const child = logger.child({ module });
  const out = prettyOutputs.get(logger);
  if (!out) return (fields, msg) => child.info(fields, msg);
  return (fields, msg) => {
    if (!child.isLevelEnabled("info")) return;
    out.write(`${prettyRecord({ time: Date.now(), level: 30, module, ...fields, msg })}\n`);
  };
}

export function createLogger(setup: LogSetup): Logger {
  const out = setup.destination ?? stdoutSink(setup.format ?? "pretty");
  const options: LoggerOptions = {
    level: PINO_LEVEL[setup.level],
    base: null,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  const stream = setup.format === "json" ? out : prettyDestination(out);
  const logger = pino(options, stream as pino.DestinationStream);
  if (setup.format !== "json") prettyOutputs.set(logger, out);
  return logger;
}
