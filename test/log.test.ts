/**
 * The log as users read it: one readable line per record in the pretty format, and every place
 * a secret can sit (REDACT_PATHS) censored in both formats.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger, describeError, fastInfo, REDACT_PATHS } from "../src/log.js";
import { ROOT } from "./helpers/cli.js";

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

test("stdout lines are written together, and pending lines at exit", () => {
  // A process that counts stdout writes, logs three lines and exits at once (as on a fatal error).
  const script = `
    import { createLogger } from "./src/log.ts";
    let writes = 0;
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk, ...rest) => { writes++; return write(chunk, ...rest); };
    const log = createLogger({ level: "info", format: "pretty" });
    for (const n of [1, 2, 3]) log.info({ n }, "line");
    process.on("exit", () => process.stderr.write("writes=" + writes));
    process.exit(3);
  `;
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "--eval", script],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(result.status, 3, result.stderr);
  assert.deepEqual(
    result.stdout
      .trim()
      .split("\n")
      .map((l) => l.replace(/^.*INFO {2}/, "")),
    ["line n=1", "line n=2", "line n=3"],
  );
  assert.match(result.stderr, /writes=1$/);
});

test("the fast upload line is exactly the line pino gives, and obeys the level", () => {
  const { logger, text } = collect("pretty");
  const fields = { remote: "127.0.0.5:4567", port: 8995, answer: "10120240206112214", note: "a b" };
  const msg = "ECU 216000064136 (ECU-R) 2024-02-06T11:22:14: 190 W — 13°C";
  fastInfo(logger, "proxy")({ ...fields, gone: undefined }, msg);
  logger.child({ module: "proxy" }).info(fields, msg);
  const [fast, viaPino] = text().trimEnd().split("\n");
  const withoutTime = (line = "") => line.replace(/^\S+ \S+ /, "");
  assert.equal(withoutTime(fast), withoutTime(viaPino));
  assert.match(fast ?? "", /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z INFO {2}\[proxy\] ECU 2160/);

  const quiet = collect("pretty");
  quiet.logger.level = "warn";
  fastInfo(quiet.logger, "proxy")(fields, msg);
  assert.equal(quiet.text(), "");
});

test("in the JSON format the fast line is pino's own record", () => {
  const { logger, text } = collect("json");
  fastInfo(logger, "proxy")({ answer: "10120240206112214" }, "upload");
  const record = JSON.parse(text()) as Record<string, unknown>;
  assert.equal(record.module, "proxy");
  assert.equal(record.answer, "10120240206112214");
  assert.equal(record.msg, "upload");
  assert.equal(record.level, 30);
});

/** Node's error for a host with two addresses that both refuse: an AggregateError, message "". */
function refusedTwice(): Error {
  const refused = (address: string) =>
    Object.assign(new Error(`connect ECONNREFUSED ${address}:1883`), {
      code: "ECONNREFUSED",
      address,
    });
  const err = new AggregateError([refused("::1"), refused("127.0.0.1")], "");
  return Object.assign(err, { code: "ECONNREFUSED" });
}

const ERRORS: Array<{ name: string; err: () => unknown; reason: string }> = [
  { name: "an error", err: () => new Error("boom"), reason: "Error: boom" },
  {
    name: "an error whose stack is empty",
    err: () => Object.assign(new Error("boom"), { stack: "" }),
    reason: "Error: boom",
  },
  {
    name: "an AggregateError without a message (ECONNREFUSED, two addresses)",
    err: refusedTwice,
    reason: "AggregateError: connect ECONNREFUSED ::1:1883; connect ECONNREFUSED 127.0.0.1:1883",
  },
  {
    name: "an error with a code and no message",
    err: () => Object.assign(new Error(""), { code: "ECONNRESET" }),
    reason: "Error [ECONNRESET]",
  },
  {
    name: "an error with neither",
    err: () => Object.assign(new Error(""), { stack: "" }),
    reason: "Error (no message)",
  },
  {
    name: "a cause with the message",
    err: () => new Error("", { cause: new TypeError("bad input") }),
    reason: "Error: bad input",
  },
  { name: "only a message", err: () => ({ message: "broker away" }), reason: "Error: broker away" },
];

for (const { name, err, reason } of ERRORS) {
  test(`an error line carries its reason: ${name}`, () => {
    const { logger, text } = collect("pretty");
    logger.error({ err: err() }, "MQTT connection error");
    const [line, first, ...frames] = text().trimEnd().split("\n");
    assert.match(line ?? "", /ERROR MQTT connection error$/);
    assert.equal(first, reason);
    for (const frame of frames) assert.match(frame, /^(\s+at |caused by: )/);
  });
}

test("an error's stack frames follow its reason", () => {
  const { logger, text } = collect("pretty");
  logger.error({ err: refusedTwice() }, "failed");
  assert.match(text(), /\nAggregateError: connect ECONNREFUSED ::1:1883; .*\n {4}at /);
});

test("describeError reads live errors too, and never returns an empty string", () => {
  assert.equal(describeError(refusedTwice()), ERRORS[2]?.reason);
  assert.equal(describeError(new RangeError("x")), "RangeError: x");
  assert.equal(describeError("text"), "text");
  assert.equal(describeError(""), "Error (no message)");
  assert.equal(describeError({}), "Error (no message)");
});
