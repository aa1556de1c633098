/**
 * End to end: the real TCP server (startProxy) and a real mosquitto. An ECU upload goes in over
 * TCP, the ECU gets its answer, and the readings come out as Home Assistant MQTT messages.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import { type RunningProxy, startProxy } from "../../src/main.js";
import {
  ECU_CONFIG,
  ECU_CONFIG_TOPIC,
  ECU_ID,
  QS1,
  QS1_CONFIG,
  QS1_CONFIG_TOPIC,
} from "../ha/expected.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { captureFrame, captureLogger, tempDir, testOptions } from "../helpers/haHarness.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

dayjs.extend(utc);
dayjs.extend(timezone);

const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;
const QS1_STATE = `apsystems_ecu_proxy/inverter/${QS1}/state`;

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
  const answer = await ecuExchange(port, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
  assert.equal(answer.toString("latin1"), UPLOAD_ANSWER);
  await watch.waitFor(() => watch.last(QS1_STATE) !== undefined, "inverter state");
  assert.deepEqual(watch.json(ECU_CONFIG_TOPIC), ECU_CONFIG);
  assert.deepEqual(watch.json(QS1_CONFIG_TOPIC), QS1_CONFIG);
  const ecu = watch.json(ECU_STATE) as Record<string, unknown>;
  assert.equal(ecu.power, 190);
  assert.equal(ecu.lifetime_energy, 2127.9);
  assert.equal(ecu.last_upload, "2024-02-06T11:22:14+01:00");
  // A round from 2024 is not today's energy.
  assert.equal(ecu.energy_today, 0);
  assert.equal((watch.json(QS1_STATE) as { power: number }).power, 155);
  assert.equal(watch.last("apsystems_ecu_proxy/status"), "online");
});

test("a round dated today counts into energy today", async () => {
  const timestamp = dayjs().tz("Europe/Amsterdam").format("YYYYMMDDHHmmss");
  const frame = Buffer.concat([captureFrame({ timestamp }), Buffer.from("\n")]);
  const answer = await ecuExchange(port, frame, { expectBytes: 17 });
  assert.equal(answer.toString("latin1"), `101${timestamp}`);
  await watch.waitForJson(ECU_STATE, (s) => s.energy_today === 0.015213);
  await watch.waitForJson(QS1_STATE, (s) => s.energy_today === 0.012385 && s.online === "ON");
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
