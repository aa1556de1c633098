import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadOptions, OptionsError } from "../../src/options/load.js";
import { optionProperties } from "../../src/options/schema.js";
import { readYaml } from "./files.js";

const dir = mkdtempSync(join(tmpdir(), "ecu-proxy-options-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes an /data/options.json-like file and returns its path. */
function file(content: unknown): string {
  const path = join(dir, `options-${n++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** What the Supervisor writes: config.yaml's `options:` merged with the user's values. */
const supervisorDefaults = readYaml("config.yaml").options as Record<string, unknown>;

function rejected(content: unknown, ...mustMention: RegExp[]): void {
  assert.throws(
    () => loadOptions(file(content)),
    (e: unknown) => {
      assert.ok(e instanceof OptionsError, String(e));
      for (const re of mustMention) assert.match(e.message, re);
      return true;
    },
  );
}

describe("options files", () => {
  test("the file the Supervisor writes from config.yaml's defaults is accepted", () => {
    const o = loadOptions(file(supervisorDefaults));
    for (const [key, value] of Object.entries(supervisorDefaults)) {
      assert.deepEqual(o[key as keyof typeof o], value, key);
    }
  });

  test("expert options missing from the file (hidden in the UI) get the program's defaults", () => {
    const o = loadOptions(file(supervisorDefaults));
    const expert = Object.entries(optionProperties).filter(
      ([, p]) => (p as Record<string, unknown>)["x-expert"] === true,
    );
    assert.ok(expert.length > 0);
    for (const [key, p] of expert) {
      assert.ok(!(key in supervisorDefaults), `${key} is not in config.yaml options`);
      assert.deepEqual(o[key as keyof typeof o], (p as { default: unknown }).default, key);
    }
    // Set in the YAML editor, a hidden option is used like any other.
    const set = loadOptions(file({ ...supervisorDefaults, max_connections: 64 }));
    assert.equal(set.max_connections, 64);
  });

  test("a file with every option set is accepted", () => {
    const o = loadOptions(
      file({
        ...supervisorDefaults,
        log_level: "debug",
        timezone: "Europe/Amsterdam",
        mqtt_host: "192.168.1.10",
        mqtt_port: 8883,
        mqtt_username: "ecu",
        mqtt_password: "s3cret",
        mqtt_tls: true,
        forward_to_ema: true,
        allowed_ecu_ids: ["216000012345"],
        status_port: 8099,
      }),
    );
    assert.equal(o.mqtt_host, "192.168.1.10");
    assert.deepEqual(o.allowed_ecu_ids, ["216000012345"]);
  });

  test("cleared optional fields (the UI's empty strings) are accepted as unset", () => {
    const o = loadOptions(file({ ...supervisorDefaults, mqtt_host: "", timezone: "" }));
    assert.equal(o.mqtt_host, undefined);
    assert.equal(o.timezone, undefined);
  });

  test("each kind of invalid file is rejected, naming the option", () => {
    rejected({ ...supervisorDefaults, mqtt_hots: "x" }, /option 'mqtt_hots' is not known/);
    rejected({ log_level: "verbose" }, /option 'log_level' must be one of/);
    rejected({ mqtt_port: "1883" }, /option 'mqtt_port' must be of type integer/);
    rejected({ forward_to_ema: "yes" }, /option 'forward_to_ema' must be of type boolean/);
    rejected({ mqtt_port: 70000 }, /option 'mqtt_port' must be <= 65535/);
    rejected({ ema_timeout_seconds: 0 }, /option 'ema_timeout_seconds' must be >= 1/);
    rejected({ discovery_prefix: "home assistant" }, /option 'discovery_prefix' has characters/);
    rejected({ mqtt_base_topic: "a/#" }, /option 'mqtt_base_topic' has characters/);
    rejected({ mqtt_username: "u".repeat(257) }, /option 'mqtt_username'/);
    rejected({ allowed_ecu_ids: ["12345"] }, /option 'allowed_ecu_ids\.0' has characters/);
    rejected({ allowed_ecu_ids: "216000012345" }, /option 'allowed_ecu_ids' must be of type array/);
    rejected(
      { allowed_ecu_ids: Array.from({ length: 101 }, (_, i) => String(216000000000 + i)) },
      /option 'allowed_ecu_ids'/,
    );
    rejected({ timezone: "Mars/Olympus_Mons" }, /option 'timezone' is not a known IANA/);
  });

  test("several bad options are all named at once", () => {
    rejected({ log_level: 1, idle_timeout_seconds: -1 }, /'log_level'/, /'idle_timeout_seconds'/);
  });

  test("a file that is not JSON, not an object, or missing is rejected with its path", () => {
    const broken = file("{ not json");
    rejected("{ not json");
    assert.throws(() => loadOptions(broken), /is not valid JSON/);
    rejected("[1,2]", /must be a JSON object/);
    assert.throws(() => loadOptions(join(dir, "missing.json")), /cannot read options file/);
  });
});
