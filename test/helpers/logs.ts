import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/log.js";
import type { LogLevel } from "../../src/options/schema.js";

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real pino logger writing JSON lines into memory, so tests can assert on what users see. */
export function captureLogs(level: LogLevel = "debug"): {
  logger: Logger;
  lines: LogLine[];
  text: () => string;
} {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  return {
    logger: createLogger({ level, format: "json", destination: sink }),
    lines,
    text: () => raw.join("\n"),
  };
}

export async function waitFor<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
