/**
 * Forwarding mode end to end: the ECU device gets the EMA diagnostics (reachable, answers from
 * EMA / from the proxy), valid by Home Assistant's rules, and their states follow the forwarder.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startProxy } from "../../src/main.js";
import { FakeEma, fiveMinutesBefore, refusedPort } from "../helpers/ema.js";
import { ECU_ID, uploadWire } from "../helpers/fixtures.js";
import { captureLogger, tempDir, testOptions } from "../helpers/haHarness.js";
import { checkDevicePayload } from "../helpers/haRules.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

const CONFIG = `homeassistant/device/apsystems_ecu_${ECU_ID}/config`;
const STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;

test("forwarding mode announces EMA diagnostics and publishes their values", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const ema = await new FakeEma().start(1);
  let upstream = ema.ports[0] ?? 0;
  const proxy = await startProxy({
    options: testOptions({
      mqtt_host: "127.0.0.1",
      mqtt_port: broker.port,
      forward_to_ema: true,
      ema_host: "127.0.0.1",
      ema_timeout_seconds: 1,
    }),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir(),
    logger: captureLogger().logger,
    emaUpstreamPort: () => upstream,
  });
  t.after(async () => {
    await proxy.stop();
    await ema.stop();
    await watch.end();
    await broker.stop();
  });
  const port = proxy.server.boundPorts[0] ?? 0;

  const answer = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
  assert.equal(answer.toString(), `101${fiveMinutesBefore("20240206112214")}`);
  await watch.waitForJson(STATE, (s) => s.ema_reachable === "ON" && s.answers_from_ema === 1);
  const config = watch.json(CONFIG) as { components: Record<string, Record<string, unknown>> };
  assert.deepEqual(
    ["ema_reachable", "answers_from_ema", "answers_from_proxy"].map(
      (k) => config.components[k]?.platform,
    ),
    ["binary_sensor", "sensor", "sensor"],
  );
  assert.equal((watch.json(STATE) as { proxy_mode?: string }).proxy_mode, "forwarding");
  assert.deepEqual(checkDevicePayload(CONFIG, config as never, "homeassistant"), []);

  // EMA goes away: the ECU is answered locally, and HA learns EMA is unreachable at once.
  upstream = await refusedPort();
  const local = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
  assert.equal(local.toString(), "10120240206112214");
  await watch.waitForJson(STATE, (s) => s.ema_reachable === "OFF");
});

test("cloudless mode announces no EMA diagnostics", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const proxy = await startProxy({
    options: testOptions({ mqtt_host: "127.0.0.1", mqtt_port: broker.port }),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir(),
    logger: captureLogger().logger,
  });
  t.after(async () => {
    await proxy.stop();
    await watch.end();
    await broker.stop();
  });
  await ecuExchange(proxy.server.boundPorts[0] ?? 0, uploadWire(), { expectBytes: 17 });
  await watch.waitFor(() => watch.json(CONFIG) !== undefined, "ECU discovery");
  const config = watch.json(CONFIG) as { components: Record<string, unknown> };
  assert.equal(config.components.ema_reachable, undefined);
  assert.equal(config.components.answers_from_ema, undefined);
});
