import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { applyUpload } from "../../src/devices/applyUpload.js";
import {
  emptyState,
  type InverterDevice,
  invertersOf,
  newInverter,
} from "../../src/devices/model.js";
import {
  type DevicePayload,
  type DiscoveryMessage,
  ecuDiscovery,
  inverterDiscovery,
} from "../../src/ha/discovery.js";
import { ECU_ENTITIES } from "../../src/ha/ecuEntities.js";
import { CHANNEL_ENTITIES, INVERTER_ENTITIES } from "../../src/ha/inverterEntities.js";
import { ORIGIN } from "../../src/ha/origin.js";
import { stableStringify } from "../../src/ha/stableJson.js";
import { makeTopics } from "../../src/ha/topics.js";
import { ecuValues, inverterValues, isThreePhase } from "../../src/ha/values.js";
import { devicesConfig } from "../../src/options/parts.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { UploadMessage } from "../../src/protocol/types.js";
import { ecuTimestampToEpoch } from "../../src/zoneTime.js";
import { bigUpload, SAMPLES } from "../helpers/fixtures.js";
import { captureUpload, testOptions } from "../helpers/haHarness.js";
import { checkDevicePayload, checkStateValue } from "../helpers/haRules.js";
import {
  ECU_CONFIG,
  ECU_CONFIG_TOPIC,
  QS1_CONFIG,
  QS1_CONFIG_TOPIC,
  YC600_CONFIG,
  YC600_CONFIG_TOPIC,
} from "./expected.js";

const PREFIX = "homeassistant";
const ctx = { topics: makeTopics("apsystems_ecu_proxy", PREFIX), origin: ORIGIN };
const ZONE = "Europe/Amsterdam";

interface Produced {
  message: DiscoveryMessage;
  state: unknown;
}

/** Discovery + state of one inverter record, the way the publisher builds them. */
function produceInverter(inv: InverterDevice): Produced {
  return {
    message: inverterDiscovery(ctx, {
      uid: inv.uid,
      ecuId: inv.ecuId,
      model: inv.model,
      typeCode: inv.typeCode,
      channelCount: inv.channels.length,
      threePhase: isThreePhase(inv),
    }),
    state: inverterValues(inv),
  };
}

/**
 * Discovery + state for every device of one upload, the way the bridge builds them: the upload
 * applied as a live round (it arrives six seconds after its own time), then published.
 */
function produce(upload: UploadMessage): Produced[] {
  const state = emptyState();
  const roundAtMs = ecuTimestampToEpoch(upload.ecu.timestamp, ZONE);
  const config = devicesConfig(testOptions());
  applyUpload(state, upload, {
    nowMs: roundAtMs + 6000,
    today: upload.ecu.timestamp.slice(0, 10),
    zone: ZONE,
    stampMs: roundAtMs,
    liveWindowMs: config.offlineAfterMs,
    maxInvertersPerEcu: config.limits.maxInvertersPerEcu,
    weakRatio: config.weakRatio,
  });
  const out: Produced[] = [];
  for (const ecu of Object.values(state.ecus)) {
    if (ecu.model === null) continue;
    out.push({
      message: ecuDiscovery(ctx, { id: ecu.id, model: ecu.model }),
      state: ecuValues(ecu, invertersOf(state, ecu.id), "cloudless", ZONE),
    });
  }
  for (const inv of Object.values(state.inverters)) out.push(produceInverter(inv));
  return out;
}

/** Evaluates our only template shapes: `{{ value_json.a }}` and `{{ value_json.a[0].b }}`. */
function renderTemplate(template: string, json: unknown): unknown {
  const m = /^\{\{ value_json\.([a-z][a-z0-9_]*(?:\[\d+\]\.[a-z][a-z0-9_]*)?) \}\}$/.exec(template);
  assert.ok(m?.[1], `unexpected template ${template}`);
  let value: unknown = json;
  for (const part of m[1].split(/\.|\[|\]\.?/).filter(Boolean)) {
    assert.ok(typeof value === "object" && value !== null, `${template}: no ${part}`);
    value = (value as Record<string, unknown>)[part];
  }
  assert.notEqual(value, undefined, `${template} renders nothing`);
  return value;
}

function problemsOf(items: Produced[]): string[] {
  const ids = new Set<string>();
  const problems: string[] = [];
  for (const { message, state } of items) {
    // What goes on the wire: stable JSON, parsed back.
    const payload = JSON.parse(stableStringify(message.payload)) as DevicePayload;
    problems.push(...checkDevicePayload(message.topic, payload, PREFIX, ids));
    const json: unknown = JSON.parse(stableStringify(state));
    for (const [key, c] of Object.entries(payload.components)) {
      const value = renderTemplate(c.value_template, json);
      problems.push(
        ...checkStateValue(
          `${message.topic} ${key}`,
          c as unknown as Record<string, unknown>,
          value,
        ),
      );
    }
  }
  return problems;
}

function allSampleFrames(dir = SAMPLES): { name: string; frame: Buffer }[] {
  const out: { name: string; frame: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    // synthetic/ holds made-up protocol cases (e.g. uploads whose records are all kept raw).
    if (statSync(path).isDirectory()) {
      if (name !== "synthetic") out.push(...allSampleFrames(path));
    } else if (name.endsWith(".txt") || name.endsWith(".bin")) {
      // Files hold frames as on the wire; the framer strips the trailing LF.
      const bytes = readFileSync(path);
      out.push({ name, frame: bytes.at(-1) === 0x0a ? bytes.subarray(0, -1) : bytes });
    }
  }
  return out;
}

test("the capture produces exactly the expected ECU and inverter discovery payloads", () => {
  const produced = produce(captureUpload());
  const byTopic = new Map(produced.map((p) => [p.message.topic, p.message.payload]));
  assert.deepEqual([...byTopic.keys()].sort(), [
    ECU_CONFIG_TOPIC,
    YC600_CONFIG_TOPIC,
    QS1_CONFIG_TOPIC,
  ]);
  assert.deepEqual(byTopic.get(ECU_CONFIG_TOPIC), ECU_CONFIG);
  assert.deepEqual(byTopic.get(YC600_CONFIG_TOPIC), YC600_CONFIG);
  assert.deepEqual(byTopic.get(QS1_CONFIG_TOPIC), QS1_CONFIG);
});

test("discovery serialisation is byte-stable whatever the key insertion order", () => {
  const a = produce(captureUpload());
  const b = produce(captureUpload());
  assert.equal(stableStringify(a[1]?.message.payload), stableStringify(b[1]?.message.payload));
  assert.equal(stableStringify({ b: 1, a: { d: 2, c: [3] } }), '{"a":{"c":[3],"d":2},"b":1}');
});

test("every payload and state from every fixture passes Home Assistant's rules", () => {
  let uploads = 0;
  const frames = [
    ...allSampleFrames(),
    { name: "bigUpload(100)", frame: Buffer.from(bigUpload(100), "latin1") },
  ];
  for (const { name, frame } of frames) {
    const message = decodeFrame(frame);
    if (message.type !== "upload") continue;
    uploads++;
    const produced = produce(message);
    assert.ok(produced.length >= 2, `${name}: no devices`);
    assert.deepEqual(problemsOf(produced), [], name);
  }
  assert.equal(uploads, 2, "the real capture and the 100-inverter upload were both checked");
});

test("an inverter of unknown model still gets a valid device", () => {
  const upload = captureUpload();
  const first = upload.inverters[0];
  assert.ok(first);
  upload.inverters = [{ ...first, uid: "999000000001", model: "unknown" }];
  const produced = produce(upload);
  assert.deepEqual(problemsOf(produced), []);
  const inv = produced.find((p) => p.message.topic.includes("999000000001"));
  assert.equal(inv?.message.payload.device.model, "Inverter type 07");
});

test("entity keys are unique per device (unique_id = device id + key)", () => {
  for (const rows of [ECU_ENTITIES, INVERTER_ENTITIES, CHANNEL_ENTITIES]) {
    const keys = rows.map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length);
  }
  // Channel rows expand to `ch<n>_<key>`; no inverter row may look like one.
  assert.ok(INVERTER_ENTITIES.every((r) => !/^ch\d/.test(r.key)));
  const singlePhaseRows = INVERTER_ENTITIES.filter((r) => !r.threePhaseOnly).length;
  assert.equal(
    Object.keys(QS1_CONFIG.components).length,
    singlePhaseRows + 4 * CHANNEL_ENTITIES.length,
  );
});

test("the checker rejects what Home Assistant rejects", () => {
  const base = () => structuredClone(ECU_CONFIG) as unknown as Record<string, unknown>;
  const comps = (p: Record<string, unknown>) =>
    p.components as Record<string, Record<string, unknown>>;
  const check = (p: unknown, topic = ECU_CONFIG_TOPIC) => checkDevicePayload(topic, p, PREFIX);

  assert.deepEqual(check(base()), []);

  const wrongUnit = base();
  (comps(wrongUnit).power as Record<string, unknown>).unit_of_measurement = "kWh";
  assert.match(
    check(wrongUnit).join(),
    /unit of measurement kWh is not valid together with device class power/,
  );

  const wrongState = base();
  (comps(wrongState).power as Record<string, unknown>).state_class = "total_increasing";
  assert.match(check(wrongState).join(), /state class total_increasing is impossible/);

  const noId = base();
  delete (comps(noId).power as Record<string, unknown>).unique_id;
  assert.match(check(noId).join(), /component power: unique_id missing/);

  const bothAvail = base();
  (comps(bothAvail).power as Record<string, unknown>).availability_topic = "x/status";
  assert.match(check(bothAvail).join(), /mutually exclusive/);

  const config = base();
  (comps(config).power as Record<string, unknown>).entity_category = "config";
  assert.match(check(config).join(), /entity_category config cannot be used for sensor/);

  const noDevice = base();
  delete noDevice.device;
  assert.match(check(noDevice).join(), /device block missing/);

  const noIdentifiers = base();
  noIdentifiers.device = { name: "x" };
  assert.match(check(noIdentifiers).join(), /at least one identifying value/);

  const noOrigin = base();
  delete noOrigin.origin;
  assert.match(check(noOrigin).join(), /origin missing/);

  const unitOnTimestamp = base();
  (comps(unitOnTimestamp).last_upload as Record<string, unknown>).unit_of_measurement = "s";
  assert.match(check(unitOnTimestamp).join(), /a unit is not allowed with device_class timestamp/);

  const enumWithoutOptions = base();
  delete (comps(enumWithoutOptions).proxy_mode as Record<string, unknown>).options;
  assert.match(check(enumWithoutOptions).join(), /device_class enum needs options/);

  assert.match(
    check(base(), "homeassistant/device/ecu.1/config").join(),
    /illegal discovery topic/,
  );
  assert.match(check(base(), "homeassistant/light/x/config").join(), /illegal discovery topic/);

  const twice = new Set<string>();
  checkDevicePayload(ECU_CONFIG_TOPIC, base(), PREFIX, twice);
  assert.match(
    checkDevicePayload(ECU_CONFIG_TOPIC, base(), PREFIX, twice).join(),
    /duplicate unique_id/,
  );

  const ts = { platform: "sensor", device_class: "timestamp" };
  assert.deepEqual(checkStateValue("t", ts, "2024-02-06T11:22:14+01:00"), []);
  assert.match(checkStateValue("t", ts, "2024-02-06T11:22:14").join(), /no timezone offset/);
  const power = { platform: "sensor", device_class: "power", unit_of_measurement: "W" };
  assert.match(checkStateValue("p", power, "190").join(), /not a finite number/);
  assert.match(checkStateValue("p", power, Number.NaN).join(), /not a finite number/);
});

test("a 3-phase inverter also gets AC voltage L2 and L3; the capture's single-phase ones do not", () => {
  const inv = newInverter("501000000001", "216000064136", "YC1000", "04", 4, 0);
  inv.online = true;
  inv.acVoltageV = 230;
  inv.phaseVoltagesV = [230, 231, 229];
  const produced = produceInverter(inv);
  assert.deepEqual(problemsOf([produced]), []);
  const { components } = produced.message.payload;
  assert.deepEqual(
    Object.keys(components).filter((k) => k.startsWith("ac_voltage")),
    ["ac_voltage", "ac_voltage_l2", "ac_voltage_l3"],
  );
  // Like L1: a diagnostic raw measurement that goes unavailable with the ECU's uploads.
  const l2 = components.ac_voltage_l2;
  assert.deepEqual(
    { ...l2, unique_id: undefined, name: undefined, value_template: undefined },
    { ...components.ac_voltage, unique_id: undefined, name: undefined, value_template: undefined },
  );
  assert.equal(l2?.name, "AC voltage L2");
  assert.equal(l2?.value_template, "{{ value_json.ac_voltage_l2 }}");
  const state = produced.state as Record<string, unknown>;
  assert.deepEqual([state.ac_voltage, state.ac_voltage_l2, state.ac_voltage_l3], [230, 231, 229]);
  assert.ok(!("ac_voltage_l2" in YC600_CONFIG.components));
  assert.ok(!("ac_voltage_l3" in QS1_CONFIG.components));
});
