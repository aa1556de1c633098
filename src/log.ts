import { Writable } from "node:stream";
import { type Logger, type LoggerOptions, pino } from "pino";
import type { LogLevel } from "./options/schema.js";

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

/** Keys that may hold secrets anywhere in a log object; pino replaces their values. */
export const REDACT_PATHS = [
  "password",
  "mqtt_password",
  "token",
  "authorization",
  "*.password",
  "*.mqtt_password",
  "*.token",
  "*.authorization",
  "*.*.password",
  "*.*.mqtt_password",
];

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
  const { time, level, msg, module, pid: _pid, hostname: _host, err, ...rest } = record;
  const stamp = typeof time === "number" ? new Date(time).toISOString().replace("T", " ") : "";
  const label = LEVEL_LABEL[Number(level)] ?? String(level);
  const tag = typeof module === "string" ? ` [${module}]` : "";
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(" ");
  let line = `${stamp} ${label}${tag} ${String(msg ?? "")}${extras ? ` ${extras}` : ""}`;
  if (err && typeof err === "object") {
    const e = err as { message?: string; stack?: string };
    line += `\n${e.stack ?? e.message ?? JSON.stringify(err)}`;
  }
  return line;
}

class PrettyStream extends Writable {
  constructor(private readonly out: NodeJS.WritableStream) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line) this.out.write(`${prettyLine(line)}\n`);
    }
    done();
  }
}

export interface LogSetup {
  level: LogLevel;
  /** `pretty` (default) for humans, `json` for machines (LOG_FORMAT=json). */
  format?: "pretty" | "json";
  /** Where lines go; default stdout. Tests pass a collecting stream. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(setup: LogSetup): Logger {
  const out = setup.destination ?? process.stdout;
  const options: LoggerOptions = {
    level: PINO_LEVEL[setup.level],
    base: null,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  const stream = setup.format === "json" ? out : new PrettyStream(out);
  return pino(options, stream as pino.DestinationStream);
}
