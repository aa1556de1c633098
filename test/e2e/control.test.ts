/**
 * Inverter control end to end (issue 19): the real program (startProxy) with option
 * inverter_control, a real mosquitto, and the simulated ECU of `ecu-proxy simulate --control`
 * talking real TCP. A change published on a command topic, as Home Assistant publishes it,
 * must reach the ECU as the frame APsystems' own test server sent in 2017, and the entity
 * must go queued → pending → confirmed (or refused) on the ECU's word alone.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RunningProxy, startProxy } from "../../src/main.js";
import { exchange, SIMULATED_ECU_ID, simulatedUpload } from "../../src/tools/simulate.js";
import { SimulatedEcuControl } from "../../src/tools/simulatedEcu.js";
import { captureLogger, tempDir, testOptions } from "../helpers/haHarness.js";
import { checkDevicePayload, checkStateValue } from "../helpers/haRules.js";
import { freePort, Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";

const ZONE = "Europe/Amsterdam";
const ECU = SIMULATED_ECU_ID;
const YC600 = "408000000001";
const QS1 = "806000000001";
const BASE = "apsystems_ecu_proxy";
const ECU_CONTROL = `${BASE}/ecu/${ECU}/control`;
const YC600_CONTROL = `${BASE}/inverter/${YC600}/control`;
const QS1_CONTROL = `${BASE}/inverter/${QS1}/control`;
const YC600_CONFIG = `homeassistant/device/apsystems_inverter_${YC600}/config`;
const ECU_CONFIG = `homeassistant/device/apsystems_ecu_${ECU}/config`;

/** The 2017 test server's frames (samples/control-channel-2017, …server-to-ecu.txt). */
const SERVER_ALL_OFF = "APS13AAA52A111AAA02130000000171000020170524103011END";
/**
 * The developers' vectors for the listed forms (…remote-control-testvectors_20170524.txt); the
 * test server was not logged sending these, and the sheet writes lengths `0`-padded.
 */
const VECTOR_ONE_ON = "APS1300068A111AAA01234567890132000100000000000000END2017031500010END";
const VECTOR_ONE_LIMIT = "APS1300070A110AAA01234567890131000100000000000000END201703150001250END";

/** A frame with another ECU id (18..29) and timestamp (at `at`, 14 digits). */
function restamp(frame: string, id: string, at: number, stamp: string): string {
  const withId = frame.slice(0, 18) + id + frame.slice(30);
  return withId.slice(0, at) + stamp + withId.slice(at + 14);
}

let broker: Mosquitto;
let watch: MqttWatch;
let proxy: RunningProxy;
let port: number;
let ecu: SimulatedEcuControl;
let statusPort: number;
const { logger, lines } = captureLogger();

let lastUploadAt = 0;
async function upload(): Promise<string> {
  // Rounds are stamped to the second; a round with the same stamp is the same round.
  lastUploadAt = Math.max(Date.now(), lastUploadAt + 1000);
  const frame = simulatedUpload(ECU, new Date(lastUploadAt), ZONE, ecu.inverters);
  const answer = await exchange("127.0.0.1", port, Buffer.from(frame, "latin1"), 17);
  return answer.toString("latin1");
}

const control = (topic: string) => watch.json(topic) as Record<string, unknown> | undefined;

before(async () => {
  broker = await Mosquitto.start();
  watch = await MqttWatch.connect(broker.port);
  statusPort = await freePort();
  proxy = await startProxy({
    options: testOptions({ inverter_control: true }),
    statusPort,
    statusAccess: { host: "127.0.0.1", allowFrom: null },
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir(),
    logger,
    mqtt: { host: "127.0.0.1", port: broker.port },
  });
  port = proxy.server.boundPorts[0] ?? 0;
  ecu = new SimulatedEcuControl(ECU, [YC600, QS1], "127.0.0.1", port);
  assert.match(await upload(), /^101\d{14}$/);
  await watch.waitFor(() => watch.json(YC600_CONFIG) !== undefined, "inverter discovery");
});
after(async () => {
  await proxy?.stop();
  await watch?.end();
  await broker?.stop();
});

test("the switch, number and ECU switch pass Home Assistant's rules, and no entity is optimistic", () => {
  const ids = new Set<string>();
  for (const topic of [ECU_CONFIG, YC600_CONFIG]) {
    const payload = watch.json(topic) as { components: Record<string, Record<string, unknown>> };
    assert.deepEqual(checkDevicePayload(topic, payload, "homeassistant", ids), []);
  }
  const inverter = (
    watch.json(YC600_CONFIG) as { components: Record<string, Record<string, unknown>> }
  ).components;
  assert.equal(inverter.control_on?.platform, "switch");
  assert.equal(inverter.control_on?.command_topic, `${BASE}/inverter/${YC600}/set/on`);
  assert.equal(inverter.control_power_limit?.platform, "number");
  // Until the ECU reports its range: 20 W (the firmware's floor) up to the YC600's 600 W.
  assert.equal(inverter.control_power_limit?.min, 20);
  assert.equal(inverter.control_power_limit?.max, 600);
  const ecuComponents = (watch.json(ECU_CONFIG) as { components: Record<string, unknown> })
    .components;
  assert.ok(ecuComponents.control_inverters_on, "the ECU's all-inverters switch");
});

test("the first poll reads the power limits (A117); the reported range bounds the number", async () => {
  const outcomes = await ecu.session();
  assert.deepEqual(
    outcomes.map((o) => o.command),
    ["A117", "A100"],
  );
  assert.match(outcomes[0]?.frame ?? "", new RegExp(`^APS13AAA51A101AAA0${ECU}A117\\d{14}END$`));
  await watch.waitFor(
    () =>
      (watch.json(YC600_CONFIG) as { components: Record<string, { max?: number }> } | undefined)
        ?.components.control_power_limit?.max === 300,
    "the number's max from the ECU's range (20..300 W)",
  );
  await watch.waitForJson(YC600_CONTROL, (v) => v.power_limit_range === "ecu");
});

test("the ECU switch off reaches the ECU byte-identical to the test server's frame, then is confirmed", async () => {
  watch.client.publish(`${BASE}/ecu/${ECU}/set/inverters_on`, "OFF");
  await watch.waitForJson(ECU_CONTROL, (v) => v.inverters_on_status === "queued");
  // Not optimistic: the switch shows no state the ECU has not taken.
  assert.equal(control(ECU_CONTROL)?.inverters_on, null);
  const outcomes = await ecu.session();
  assert.deepEqual(
    outcomes.map((o) => o.command),
    ["A111", "A100"],
  );
  const sent = outcomes[0]?.frame ?? "";
  assert.equal(restamp(sent, "213000000017", 35, "20170524103011"), SERVER_ALL_OFF);
  await watch.waitForJson(
    ECU_CONTROL,
    (v) => v.inverters_on_status === "confirmed" && v.inverters_on === "OFF",
  );
  await watch.waitForJson(YC600_CONTROL, (v) => v.on === "OFF");
  assert.ok(
    lines.some((l) => String(l.msg).includes("acknowledged A111 (all inverters off): confirmed")),
    "the acknowledgement is logged",
  );
  // The next upload shows it: both inverters at 0 W.
  assert.match(await upload(), /^101/);
  await watch.waitForJson(`${BASE}/ecu/${ECU}/state`, (v) => v.power === 0);
  await watch.waitForJson(YC600_CONTROL, (v) => v.upload_check === "agrees");
});

test("one inverter on and a power limit: the listed forms, each confirmed", async () => {
  watch.client.publish(`${BASE}/inverter/${QS1}/set/on`, "ON");
  watch.client.publish(`${BASE}/inverter/${YC600}/set/power_limit`, "250");
  await watch.waitForJson(YC600_CONTROL, (v) => v.power_limit_status === "queued");
  await watch.waitForJson(QS1_CONTROL, (v) => v.on_status === "queued");
  const outcomes = await ecu.session();
  assert.deepEqual(
    outcomes.map((o) => o.command),
    ["A111", "A110", "A100"],
    "one command per poll, in the order asked",
  );
  const [onFrame = "", limitFrame = ""] = outcomes.map((o) => o.frame);
  // The sheet's vectors with its id, uid and timestamp; the length padded with A, as the server did.
  const asVector = (frame: string, uid: string) =>
    restamp(frame, "123456789013", 35, "00000000000000").replace(uid, "201703150001");
  assert.equal(asVector(onFrame, QS1), VECTOR_ONE_ON.replace("APS1300068", "APS13AAA68"));
  assert.equal(asVector(limitFrame, YC600), VECTOR_ONE_LIMIT.replace("APS1300070", "APS13AAA70"));
  await watch.waitForJson(
    YC600_CONTROL,
    (v) => v.power_limit === 250 && v.power_limit_status === "confirmed",
  );
  await watch.waitForJson(QS1_CONTROL, (v) => v.on === "ON" && v.on_status === "confirmed");
  assert.deepEqual(checkStateValue("number", { platform: "number", min: 20, max: 300 }, 250), []);
  // The ECU switch is ON/OFF only when all agree: the YC600 is still off.
  assert.equal(control(ECU_CONTROL)?.inverters_on, null);
  assert.equal(ecu.inverters.get(YC600)?.limitW, 250);
  // The status page shows the same, and its captures hold every command and acknowledgement.
  const status = (await (await fetch(`http://127.0.0.1:${statusPort}/api/status`)).json()) as {
    ecus: { inverters: { uid: string; control?: Record<string, unknown> }[] }[];
  };
  const card = status.ecus[0]?.inverters.find((i) => i.uid === YC600);
  assert.deepEqual(card?.control, {
    on: "OFF",
    // Switched off by the ECU-wide command: this inverter's own switch has no change of its own.
    onStatus: null,
    powerLimitW: 250,
    powerLimitStatus: "confirmed",
    detail: null,
  });
  const captures = (await (await fetch(`http://127.0.0.1:${statusPort}/api/captures`)).json()) as {
    reason: string;
    kind: string;
  }[];
  const kept = captures.filter((e) => e.reason === "control").map((e) => e.kind);
  assert.deepEqual(
    kept.filter((k) => k === "control_ack").length,
    4,
    "A117, A111 all, A111 one, A110: every acknowledgement",
  );
});

test("a refusal (result digit) shows as refused, and the value stays what the ECU confirmed", async () => {
  ecu.refuse.set("A111", "1");
  try {
    watch.client.publish(`${BASE}/inverter/${YC600}/set/on`, "ON");
    await watch.waitForJson(YC600_CONTROL, (v) => v.on_status === "queued");
    const outcomes = await ecu.session();
    assert.equal(outcomes[0]?.ack?.slice(-4), "1END");
    await watch.waitForJson(YC600_CONTROL, (v) => v.on_status === "refused");
    const view = control(YC600_CONTROL);
    assert.equal(view?.on, "OFF");
    assert.match(String(view?.on_detail), /result 1/);
  } finally {
    ecu.refuse.clear();
  }
});

test("a value outside the reported range never leaves the proxy and says why", async () => {
  watch.client.publish(`${BASE}/inverter/${YC600}/set/power_limit`, "500");
  await watch.waitForJson(YC600_CONTROL, (v) => v.power_limit_status === "rejected");
  assert.match(String(control(YC600_CONTROL)?.power_limit_detail), /500 W is outside 20\.\.300 W/);
  const outcomes = await ecu.session();
  assert.deepEqual(
    outcomes.map((o) => o.command),
    ["A100"],
  );
  assert.equal(control(YC600_CONTROL)?.power_limit, 250);
});

test("a flapping automation leaves one command per setting: the newest value", async () => {
  for (let i = 0; i < 30; i++) {
    watch.client.publish(`${BASE}/inverter/${QS1}/set/on`, i % 2 === 0 ? "OFF" : "ON");
  }
  watch.client.publish(`${BASE}/inverter/${QS1}/set/on`, "OFF");
  await watch.waitFor(
    () => lines.filter((l) => String(l.msg).includes(`inverter ${QS1} off) queued`)).length >= 16,
    "every request handled",
  );
  const outcomes = await ecu.session();
  assert.deepEqual(
    outcomes.map((o) => o.command),
    ["A111", "A100"],
  );
  assert.ok(outcomes[0]?.frame.endsWith(`${QS1}1END`), "the last value (off) is the one sent");
  await watch.waitForJson(QS1_CONTROL, (v) => v.on === "OFF" && v.on_status === "confirmed");
});

test("an ECU that acknowledges but does not carry out shows as 'disagrees' after its next upload", async () => {
  // Result 0 without the effect: what a firmware that takes the frame but ignores it would do.
  ecu.inverters.set(QS1, { on: true, limitW: null });
  watch.client.publish(`${BASE}/inverter/${QS1}/set/on`, "OFF");
  ecu.refuse.set("A111", "0");
  try {
    await watch.waitForJson(QS1_CONTROL, (v) => v.on_status === "queued");
    await ecu.session();
    await watch.waitForJson(QS1_CONTROL, (v) => v.on === "OFF" && v.on_status === "confirmed");
    assert.match(await upload(), /^101/);
    await watch.waitForJson(QS1_CONTROL, (v) => v.upload_check === "disagrees");
  } finally {
    ecu.refuse.clear();
  }
});
