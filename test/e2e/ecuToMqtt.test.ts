/**
 * End to end: the real TCP server (startProxy) and a real mosquitto. An ECU upload goes in over
 * TCP, the ECU gets its answer, and the readings come out as Home Assistant MQTT messages.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RunningProxy, startProxy } from "../../src/main.js";
import { ecuTimestampToIso } from "../../src/zoneTime.js";
import {
  ECU_CONFIG,
  ECU_CONFIG_TOPIC,
  ECU_ID,
  QS1,
  QS1_CONFIG,
  QS1_CONFIG_TOPIC,
} from "../ha/expected.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import {
  captureFrame,
  captureLogger,
  ecuStamp,
  tempDir,
  testOptions,
} from "../helpers/haHarness.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

const ZONE = "Europe/Amsterdam";
const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;
const QS1_STATE = `apsystems_ecu_proxy/inverter/${QS1}/state`;

/** `YYYYMMDDhhmmss` → `YYYY-MM-DDThh:mm:ss`, as the decoder gives ECU times. */
const isoStamp = (t: string) =>
  `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12)}`;

let broker: Mosquitto;
let watch: MqttWatch;
let proxy: RunningProxy;
let port: number;

before(async () => {
  broker = await Mosquitto.start();
  watch = await MqttWatch.connect(broker.port);
  const { logger } = captureLogger();
  proxy = await startProxy({
    options: testOptions({ allowed_ecu_ids: [ECU_ID] }),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir(),
    logger,
    mqtt: { host: "127.0.0.1", port: broker.port },
  });
  port = proxy.server.boundPorts[0] ?? 0;
});
after(async () => {
  await proxy?.stop();
  await watch?.end();
  await broker?.stop();
});

test("the captured upload over TCP is answered, then published to Home Assistant", async () => {
  // Stamped with the wall clock in the configured zone: only a round close to now is live.
  const timestamp = ecuStamp(Date.now(), ZONE);
  const frame = Buffer.concat([captureFrame({ timestamp }), Buffer.from("\n")]);
  const answer = await ecuExchange(port, frame, { expectBytes: 17 });
  assert.equal(answer.toString("latin1"), `101${timestamp}`);
  // The inverters' states go out before their ECU's (its message counts them).
  await watch.waitFor(
    () => watch.json(QS1_STATE) !== undefined && watch.json(ECU_STATE) !== undefined,
    "inverter and ECU states",
  );
  assert.deepEqual(watch.json(ECU_CONFIG_TOPIC), ECU_CONFIG);
  assert.deepEqual(watch.json(QS1_CONFIG_TOPIC), QS1_CONFIG);
  const ecu = watch.json(ECU_STATE) as Record<string, unknown>;
  assert.equal(ecu.power, 190);
  assert.equal(ecu.lifetime_energy, 2127.9);
  assert.equal(ecu.last_upload, ecuTimestampToIso(isoStamp(timestamp), ZONE));
  // A round dated today counts into energy today.
  assert.equal(ecu.energy_today, 0.015213);
  const qs1 = watch.json(QS1_STATE) as Record<string, unknown>;
  assert.equal(qs1.power, 155);
  assert.equal(qs1.energy_today, 0.012385);
  assert.equal(qs1.online, "ON");
  assert.equal(watch.last("apsystems_ecu_proxy/status"), "online");
});

test("the capture as recorded (2024) is answered, but is neither today's energy nor live", async () => {
  const before = watch.json(ECU_STATE) as Record<string, unknown>;
  const states = watch.count(ECU_STATE);
  const answer = await ecuExchange(port, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
  assert.equal(answer.toString("latin1"), UPLOAD_ANSWER);
  // It is contact: the ECU's state goes out again, with the same readings.
  await watch.waitFor(() => watch.count(ECU_STATE) > states, "the ECU's state after the round");
  const after = watch.json(ECU_STATE) as Record<string, unknown>;
  assert.equal(after.energy_today, before.energy_today, "a round from 2024 is not today's energy");
  assert.equal(after.power, 190);
  assert.equal(after.last_upload, before.last_upload, "an old round does not become the live one");
  assert.equal(after.lifetime_energy, 2127.9);
});

test("an ECU outside allowed_ecu_ids is answered but not published", async () => {
  const other = "216000000099";
  const before = watch.count(ECU_STATE);
  const frame = Buffer.concat([captureFrame({ ecuId: other }), Buffer.from("\n")]);
  const answer = await ecuExchange(port, frame, { expectBytes: UPLOAD_ANSWER.length });
  assert.equal(answer.toString("latin1"), UPLOAD_ANSWER);
  // The allowed ECU's upload goes the same way afterwards; MQTT keeps one client's order, so
  // once its state arrives, anything published for the other ECU would have arrived too.
  await ecuExchange(port, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
  await watch.waitFor(() => watch.count(ECU_STATE) > before, "the allowed ECU's next state");
  assert.ok(watch.messages.every((m) => !m.topic.includes(other)));
});
