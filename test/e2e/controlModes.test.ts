/**
 * Inverter control and the rest of the program (issue 19): with the option off nothing changes
 * (no entities, no command topics, "no commands" exactly as before); in forwarding mode the
 * user's commands go first and EMA's stay blocked; a burst of random command-topic messages
 * over a real broker makes the ECU see nothing but A110/A111/A117.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type RunningProxy, startProxy } from "../../src/main.js";
import { noCommandsAnswer } from "../../src/protocol/answers/controlPoll.js";
import { exchange, SIMULATED_ECU_ID, simulatedUpload } from "../../src/tools/simulate.js";
import { SimulatedEcuControl } from "../../src/tools/simulatedEcu.js";
import { FakeEma } from "../helpers/ema.js";
import { captureLogger, tempDir, testOptions } from "../helpers/haHarness.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

const ZONE = "Europe/Amsterdam";
const ECU = SIMULATED_ECU_ID;
const YC600 = "408000000001";
const QS1 = "806000000001";
const BASE = "apsystems_ecu_proxy";
const POLL = Buffer.from(`APS1300051A101AAA0${ECU}A10100000000000000END\n`, "latin1");
const CONFIG = `homeassistant/device/apsystems_inverter_${YC600}/config`;

async function start(options: Record<string, unknown>, brokerPort?: number, ema?: FakeEma) {
  const { logger, lines } = captureLogger();
  const proxy: RunningProxy = await startProxy({
    options: testOptions(options),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir(),
    logger,
    ...(brokerPort ? { mqtt: { host: "127.0.0.1", port: brokerPort } } : {}),
    ...(ema ? { emaUpstreamPort: () => ema.ports[0] ?? 0 } : {}),
  });
  const port = proxy.server.boundPorts[0] ?? 0;
  const upload = async (ecu?: SimulatedEcuControl) => {
    const frame = simulatedUpload(ECU, new Date(), ZONE, ecu?.inverters);
    return (await exchange("127.0.0.1", port, Buffer.from(frame, "latin1"), 17)).toString();
  };
  return { proxy, port, lines, upload };
}

test("option off: no control entities, commands ignored, polls get exactly today's 'no commands'", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const { proxy, port, lines, upload } = await start({}, broker.port);
  t.after(async () => {
    await proxy.stop();
    await watch.end();
    await broker.stop();
  });
  assert.equal(testOptions().inverter_control, false, "off by default");
  assert.match(await upload(), /^101/);
  await watch.waitFor(() => watch.json(CONFIG) !== undefined, "discovery");
  const components = (watch.json(CONFIG) as { components: Record<string, unknown> }).components;
  assert.deepEqual(
    Object.keys(components).filter((k) => k.startsWith("control_")),
    [],
  );
  watch.client.publish(`${BASE}/inverter/${YC600}/set/on`, "OFF");
  watch.client.publish(`${BASE}/ecu/${ECU}/set/inverters_on`, "OFF");
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 2; i++) {
    const answer = await ecuExchange(port, POLL, { expectBytes: 52 });
    assert.deepEqual(answer, noCommandsAnswer(ECU));
  }
  assert.equal(watch.count(`${BASE}/inverter/${YC600}/control`), 0, "no control state topic");
  assert.ok(!lines.some((l) => l.module === "control"), "control never started");
});

test("forwarding: the user's command goes first, EMA's commands stay blocked, acks stay local", async (t) => {
  const ema = await new FakeEma().start(1);
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const options = {
    inverter_control: true,
    forward_to_ema: true,
    ema_host: "127.0.0.1",
    ema_timeout_seconds: 1,
  };
  const { proxy, port, lines, upload } = await start(options, broker.port, ema);
  t.after(async () => {
    await proxy.stop();
    await watch.end();
    await broker.stop();
    await ema.stop();
  });
  const ecu = new SimulatedEcuControl(ECU, [YC600, QS1], "127.0.0.1", port);
  await upload(ecu);
  await watch.waitFor(() => watch.json(CONFIG) !== undefined, "discovery");
  ema.behaviour.command = "A111";
  // First session: the proxy's own A117, then EMA's A111 blocked → "no commands".
  assert.deepEqual(
    (await ecu.session()).map((o) => o.command),
    ["A117", "A100"],
  );
  assert.ok(lines.some((l) => /EMA sent command A111 .*blocked/.test(String(l.msg))));
  watch.client.publish(`${BASE}/inverter/${YC600}/set/on`, "OFF");
  await watch.waitForJson(`${BASE}/inverter/${YC600}/control`, (v) => v.on_status === "queued");
  const before = ema.requests.length;
  const outcomes = await ecu.session();
  assert.deepEqual(
    outcomes.map((o) => o.command),
    ["A111", "A100"],
  );
  assert.ok(outcomes[0]?.frame.endsWith(`${YC600}1END`), "the user's command, not EMA's");
  await watch.waitForJson(`${BASE}/inverter/${YC600}/control`, (v) => v.on === "OFF");
  const forwarded = ema.requests.slice(before).map((r) => r.data.toString("latin1"));
  // Only the closing poll reached EMA: not the poll answered with our command, not its ack.
  assert.equal(forwarded.length, 1);
  assert.ok(forwarded[0]?.includes("A101AAA0"));
  assert.equal(ecu.inverters.get(YC600)?.on, false);
  assert.equal(ecu.inverters.get(QS1)?.on, true, "EMA's A111 never reached the ECU");
});

test("random messages on the command topics of a real broker: the ECU sees only A110/A111/A117", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const { proxy, port, upload } = await start({ inverter_control: true }, broker.port);
  t.after(async () => {
    await proxy.stop();
    await watch.end();
    await broker.stop();
  });
  const ecu = new SimulatedEcuControl(ECU, [YC600, QS1], "127.0.0.1", port);
  await upload(ecu);
  await watch.waitFor(() => watch.json(CONFIG) !== undefined, "discovery");
  const messages = fc.sample(
    fc.tuple(
      fc.constantFrom(
        `${BASE}/inverter/${YC600}/set/on`,
        `${BASE}/inverter/${QS1}/set/power_limit`,
        `${BASE}/ecu/${ECU}/set/inverters_on`,
        `${BASE}/inverter/${YC600}/set/A107`,
        `${BASE}/ecu/${ECU}/set/A108`,
      ),
      fc.oneof(fc.constantFrom("ON", "OFF", "250", "9999"), fc.string({ maxLength: 40 })),
    ),
    { numRuns: 150, seed: 19 },
  );
  const seen = new Set<string>();
  for (const [i, [topic, payload]] of messages.entries()) {
    await watch.client.publishAsync(topic, payload);
    if (i % 25 === 24) for (const o of await ecu.session()) seen.add(o.command);
  }
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 3; i++) for (const o of await ecu.session()) seen.add(o.command);
  for (const command of seen)
    assert.ok(["A100", "A110", "A111", "A117"].includes(command), command);
  assert.ok(seen.has("A111"), "the valid ones did arrive");
});

test("a retained command on the broker is not replayed to the ECU at each connect", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const topic = `${BASE}/inverter/${YC600}/set/on`;
  await watch.client.publishAsync(topic, "OFF", { retain: true, qos: 1 });
  const { proxy, port, lines, upload } = await start({ inverter_control: true }, broker.port);
  t.after(async () => {
    await proxy.stop();
    await watch.end();
    await broker.stop();
  });
  const ecu = new SimulatedEcuControl(ECU, [YC600, QS1], "127.0.0.1", port);
  await upload(ecu);
  await watch.waitFor(() => watch.json(CONFIG) !== undefined, "discovery");
  await watch.waitFor(
    () => lines.some((l) => String(l.msg).includes("retained message on a command topic ignored")),
    "the warning",
  );
  assert.deepEqual(
    (await ecu.session()).map((o) => o.command),
    ["A117", "A100"],
  );
  assert.equal(ecu.inverters.get(YC600)?.on, true);
});
