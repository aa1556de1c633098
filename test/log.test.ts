/**
 * The log as users read it: one readable line per record in the pretty format, and every place
 * a secret can sit (REDACT_PATHS) censored in both formats.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger, REDACT_PATHS } from "../src/log.js";

function collect(format: "pretty" | "json") {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = createLogger({ level: "info", format, destination });
  return { logger, text: () => chunks.join("") };
}

/** `{a: {b: value}}` for the path "a.b". */
function objectAt(path: string, value: string): Record<string, unknown> {
  const keys = path.split(".");
  let object: Record<string, unknown> = { [keys.pop() as string]: value };
  while (keys.length > 0) object = { [keys.pop() as string]: object };
  return object;
}

test("pretty lines: time, level, module, message, then key=value", () => {
  const { logger, text } = collect("pretty");
  logger.child({ module: "proxy" }).info({ ecu: "216200001234", note: "a b" }, "upload answered");
  assert.match(
    text(),
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z INFO {2}\[proxy\] upload answered ecu=216200001234 note="a b"\n$/,
  );
});

for (const format of ["pretty", "json"] as const) {
  test(`every secret path is censored (${format})`, () => {
    const { logger, text } = collect(format);
    for (const [i, path] of REDACT_PATHS.entries()) {
      logger.info(objectAt(path, `secret-${i}-Zq8`), `record ${i}`);
    }
    const out = text();
    for (const [i] of REDACT_PATHS.entries()) assert.ok(out.includes(`record ${i}`));
    assert.equal(out.includes("-Zq8"), false, out);
    assert.equal(out.split("[redacted]").length - 1, REDACT_PATHS.length);
  });
}
