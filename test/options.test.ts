import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { GENERATED_PATH, generateValidator } from "../scripts/options-validator.js";
import { OptionsError, parseOptions } from "../src/options/load.js";

test("empty options get every default", () => {
  const o = parseOptions({});
  assert.equal(o.log_level, "info");
  assert.equal(o.forward_to_ema, false);
  assert.equal(o.max_message_kib, 64);
  assert.deepEqual(o.allowed_ecu_ids, []);
  assert.equal(o.mqtt_host, undefined);
});

test("an unknown key names the key", () => {
  assert.throws(
    () => parseOptions({ mqtt_hots: "x" }),
    (e: unknown) => e instanceof OptionsError && /option 'mqtt_hots' is not known/.test(e.message),
  );
});

test("a wrong type names the option and the fix", () => {
  assert.throws(
    () => parseOptions({ mqtt_port: "abc" }),
    (e: unknown) =>
      e instanceof OptionsError && /option 'mqtt_port' must be of type integer/.test(e.message),
  );
  assert.throws(
    () => parseOptions({ log_level: "loud" }),
    (e: unknown) =>
      e instanceof OptionsError && /option 'log_level' must be one of trace, debug/.test(e.message),
  );
  assert.throws(
    () => parseOptions({ idle_timeout_seconds: 0 }),
    (e: unknown) =>
      e instanceof OptionsError && /option 'idle_timeout_seconds' must be >= 1/.test(e.message),
  );
  assert.throws(
    () => parseOptions({ timezone: "Mars/Olympus" }),
    (e: unknown) =>
      e instanceof OptionsError && /option 'timezone' is not a known IANA/.test(e.message),
  );
});

test("cleared optional fields (empty strings) count as unset", () => {
  const o = parseOptions({ mqtt_host: "", mqtt_password: "" });
  assert.equal(o.mqtt_host, undefined);
  assert.equal(o.mqtt_password, undefined);
});

test("the generated validator is what ajv makes of the schema now", () => {
  assert.equal(
    readFileSync(GENERATED_PATH, "utf8"),
    generateValidator(),
    "src/options/validateOptions.generated.ts is stale — run: npx tsx scripts/options-validator.ts",
  );
});
