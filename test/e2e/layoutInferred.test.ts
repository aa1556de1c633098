/**
 * Issue 20 end to end: a DS3 (703…) record of a type code nobody has published, sent over real
 * TCP to the real program with a real mosquitto, reaches Home Assistant decoded and with the
 * "layout inferred" attribute; the status page notes it, the log says it once, and the upload
 * stays in the captures for its owner to send.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RunningProxy, startProxy } from "../../src/main.js";
import type { StatusSnapshot } from "../../src/status/types.js";
import { QS1 } from "../ha/expected.js";
import { captureBytes } from "../helpers/captures.js";
import { captureLogger, ecuStamp, tempDir, testOptions } from "../helpers/haHarness.js";
import { waitFor } from "../helpers/logs.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

const ZONE = "Europe/Amsterdam";
/** The real capture with its YC600 record's uid moved to 703… and its type code to 99. */
const DS3_CAPTURE = "synthetic/ecu-r-2160_upload_2inv_20240206_ds3-703-type-code-99_synthetic.txt";
const DS3 = "703000111178";
const DS3_STATE = `apsystems_ecu_proxy/inverter/${DS3}/state`;
const DS3_CONFIG = `homeassistant/device/apsystems_inverter_${DS3}/config`;
const QS1_STATE = `apsystems_ecu_proxy/inverter/${QS1}/state`;

let broker: Mosquitto;
let watch: MqttWatch;
let proxy: RunningProxy;
let port: number;
let lines: Record<string, unknown>[];

before(async () => {
  broker = await Mosquitto.start();
  watch = await MqttWatch.connect(broker.port);
  const logs = captureLogger();
  lines = logs.lines;
  proxy = await startProxy({
    options: testOptions({ timezone: ZONE }),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir("inferred-"),
    statusPort: 0,
    statusAccess: { host: "127.0.0.1" },
    logger: logs.logger,
    mqtt: { host: "127.0.0.1", port: broker.port },
  });
  port = proxy.server.boundPorts[0] ?? 0;
});
after(async () => {
  await proxy?.stop();
  await watch?.end();
  await broker?.stop();
});

/** The DS3 capture stamped `at` (a round is live only when its time is close to the clock). */
function frameAt(at: number): { frame: Buffer; timestamp: string } {
  const text = captureBytes(DS3_CAPTURE).toString("latin1");
  assert.equal(text.slice(86, 98), DS3);
  const timestamp = ecuStamp(at, ZONE);
  return {
    frame: Buffer.from(text.slice(0, 60) + timestamp + text.slice(74), "latin1"),
    timestamp,
  };
}

test("a DS3 record of unknown type code reaches Home Assistant decoded, with layout_inferred", async () => {
  const first = frameAt(Date.now() - 60_000);
  const answer = await ecuExchange(port, first.frame, { expectBytes: 17 });
  assert.equal(answer.toString("latin1"), `101${first.timestamp}`);
  await watch.waitFor(
    () => watch.json(DS3_STATE) !== undefined && watch.json(DS3_CONFIG) !== undefined,
    "the DS3's discovery and state",
  );

  const config = watch.json(DS3_CONFIG) as {
    device: { model: string; name: string };
    components: Record<string, Record<string, unknown>>;
  };
  assert.equal(config.device.model, "DS3");
  assert.equal(config.device.name, `DS3 ${DS3}`);
  const power = config.components.power ?? {};
  assert.equal(power.json_attributes_topic, DS3_STATE);
  assert.match(
    String(power.json_attributes_template),
    /'layout_inferred': value_json\.layout_inferred/,
  );
  assert.ok(config.components.ch2_power, "both inputs are announced");
  assert.equal(config.components.ch3_power, undefined);

  const state = watch.json(DS3_STATE) as Record<string, unknown>;
  assert.equal(state.layout_inferred, true);
  assert.equal(state.online, "ON");
  assert.equal(state.power, 35);
  assert.equal(state.ac_voltage, 228);
  assert.equal(state.temperature, 13);
  assert.deepEqual(
    (state.channels as Array<Record<string, unknown>>).map((c) => [c.power, c.dc_voltage]),
    [
      [17, 33.8],
      [18, 33.9],
    ],
  );
  // Its sibling of a known type is not marked.
  await watch.waitFor(() => watch.json(QS1_STATE) !== undefined, "the QS1's state");
  assert.equal((watch.json(QS1_STATE) as Record<string, unknown>).layout_inferred, false);

  // A second round: the log names the inference once per inverter.
  const second = frameAt(Date.now());
  await ecuExchange(port, second.frame, { expectBytes: 17 });
  // The round's own line (its summary marks the inverter) comes after any line about it.
  const t = second.timestamp;
  const iso = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12)}`;
  await waitFor(
    () =>
      lines.some(
        (l) =>
          String(l.msg).includes(iso) && /DS3 35 W 13°C \(layout inferred\)/.test(String(l.msg)),
      ),
    "the second round's upload line",
  );
  const said = lines.filter((l) => l.inverter === DS3 && /layout inferred/.test(String(l.msg)));
  assert.equal(said.length, 1, JSON.stringify(said));
  assert.match(String(said[0]?.msg), /type code 99.*read as type 07.*please send a capture/);

  // The status page notes it, and the upload is kept as its own capture.
  const base = `http://127.0.0.1:${proxy.status?.server.port}`;
  const snapshot = (await (await fetch(`${base}/api/status`)).json()) as StatusSnapshot;
  const card = snapshot.ecus[0]?.inverters.find((i) => i.uid === DS3);
  assert.equal(card?.layoutInferred, "07");
  assert.equal(card?.typeCode, "99");
  const captures = (await (await fetch(`${base}/api/captures`)).json()) as Array<{
    kind: string;
  }>;
  assert.ok(
    captures.some((c) => c.kind === "upload/layout-inferred"),
    JSON.stringify(captures.map((c) => c.kind)),
  );
});
