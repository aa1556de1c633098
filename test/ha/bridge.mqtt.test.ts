/**
 * The bridge against a real mosquitto (test/helpers/mosquitto.ts): exact discovery and states,
 * broker restarts, HA restarts, midnight in a non-UTC zone, restarts of the bridge itself,
 * lifetime glitches and the offline timer.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, test } from "node:test";
import type { DeviceRegistry } from "../../src/devices/registry.js";
import { createHomeAssistantBridge, type MqttSettings } from "../../src/ha/bridge.js";
import { homeAssistantConfig } from "../../src/options/parts.js";
import type { Message } from "../../src/protocol/types.js";
import {
  captureLogger,
  captureUpload,
  type DevicesSetup,
  exchangeOf,
  feed,
  startDevices,
  TestClock,
  tempDir,
  testOptions,
  type UploadEdits,
} from "../helpers/haHarness.js";
import { checkDevicePayload } from "../helpers/haRules.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import {
  ECU_CONFIG,
  ECU_CONFIG_TOPIC,
  ECU_ID,
  QS1,
  QS1_CONFIG,
  QS1_CONFIG_TOPIC,
  YC600,
  YC600_CONFIG,
  YC600_CONFIG_TOPIC,
} from "./expected.js";

const STATUS = "apsystems_ecu_proxy/status";
const ECU_AVAIL = `apsystems_ecu_proxy/ecu/${ECU_ID}/availability`;
const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;
const YC600_STATE = `apsystems_ecu_proxy/inverter/${YC600}/state`;
const QS1_STATE = `apsystems_ecu_proxy/inverter/${QS1}/state`;
/** 2024-02-06 11:22:20 in Amsterdam, six seconds after the capture's round. */
const T0 = Date.UTC(2024, 1, 6, 10, 22, 20);
const ROUND_KWH = 0.015213;

let broker: Mosquitto;
let watch: MqttWatch;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  broker = await Mosquitto.start();
});
after(async () => {
  await broker.stop();
});
beforeEach(async () => {
  // A fresh broker per test: no retained messages leak between tests.
  await broker.stop();
  await broker.start();
  watch = await MqttWatch.connect(broker.port);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await watch.end();
});

interface BridgeSetup extends DevicesSetup {
  /** Broker to use; default the test's mosquitto. `undefined` = no MQTT. */
  settings?: MqttSettings | undefined;
}

/** A device registry and its Home Assistant bridge, wired as main.ts wires them. */
function startBridge(setup: BridgeSetup = {}) {
  const { logger, lines } = captureLogger();
  const devices = startDevices({ checkIntervalMs: 20, ...setup, logger });
  const bridge = createHomeAssistantBridge({
    ...homeAssistantConfig(testOptions(setup.optionOverrides)),
    settings: "settings" in setup ? setup.settings : { host: "127.0.0.1", port: broker.port },
    devices,
    logger,
    haRestartDelayMs: 20,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
  });
  cleanups.push(async () => {
    await bridge.stop();
    await devices.stop();
  });
  return { bridge, devices, lines };
}

/** What the proxy server does with every exchange: hands it to the device registry. */
const send = (devices: DeviceRegistry, m: Message) => feed(devices, exchangeOf(m));
const upload = (edits: UploadEdits = {}) => captureUpload(edits);
/** One panel input's state after the first round: its energy is today's and its lifetime. */
const channel = (power: number, dc_voltage: number, dc_current: number, kWh: number) => ({
  power,
  dc_voltage,
  dc_current,
  energy_today: kWh,
  lifetime_energy: kWh,
  weak: "OFF",
});

test("the capture gives exactly the expected discovery, states and availability", async () => {
  const clock = new TestClock(T0);
  const { bridge, devices } = startBridge({ now: clock.now });
  bridge.start();
  await watch.waitFor(() => watch.last(STATUS) === "online", "proxy online");
  await send(devices, upload());
  await watch.waitFor(
    () => [ECU_STATE, YC600_STATE, QS1_STATE].every((t) => watch.last(t) !== undefined),
    "all states",
  );
  assert.deepEqual(watch.json(ECU_CONFIG_TOPIC), ECU_CONFIG);
  assert.deepEqual(watch.json(YC600_CONFIG_TOPIC), YC600_CONFIG);
  assert.deepEqual(watch.json(QS1_CONFIG_TOPIC), QS1_CONFIG);
  const ids = new Set<string>();
  for (const topic of [ECU_CONFIG_TOPIC, YC600_CONFIG_TOPIC, QS1_CONFIG_TOPIC]) {
    assert.deepEqual(checkDevicePayload(topic, watch.json(topic), "homeassistant", ids), []);
  }
  assert.deepEqual(watch.json(ECU_STATE), {
    power: 190,
    lifetime_energy: 2127.9,
    energy_today: ROUND_KWH,
    max_power_today: 190,
    max_power: 190,
    inverters_online: 2,
    inverters_known: 2,
    inverters_reporting: 2,
    last_upload: "2024-02-06T11:22:14+01:00",
    last_contact: "2024-02-06T11:22:20+01:00",
    proxy_mode: "cloudless",
    storage_problem: "OFF",
    clock_offset: null,
    clock_wrong: "OFF",
  });
  // The proxy's own counters start with the first round it sees: lifetime = today's so far.
  assert.deepEqual(watch.json(YC600_STATE), {
    online: "ON",
    ac_voltage: 228,
    frequency: 50,
    temperature: 13,
    power: 35,
    energy_today: 0.002828,
    lifetime_energy: 0.002828,
    missing: "OFF",
    weak: "OFF",
    layout_inferred: false,
    channels: [channel(17, 33.8, 0.5, 0.001409), channel(18, 33.9, 0.5, 0.001419)],
  });
  assert.deepEqual(watch.json(QS1_STATE), {
    online: "ON",
    ac_voltage: 228,
    frequency: 50,
    temperature: 15,
    power: 155,
    energy_today: 0.012385,
    lifetime_energy: 0.012385,
    missing: "OFF",
    weak: "OFF",
    layout_inferred: false,
    channels: [
      channel(29, 31.1, 1, 0.002309),
      channel(38, 34.2, 1.2, 0.00307),
      channel(45, 33.4, 1.4, 0.003569),
      channel(43, 32.9, 1.4, 0.003437),
    ],
  });
  assert.equal(watch.last(ECU_AVAIL), "online");
  // Everything is retained: a client subscribing now gets the same picture.
  const late = await MqttWatch.connect(broker.port);
  const retained = [STATUS, ECU_AVAIL, ECU_STATE, YC600_STATE, QS1_STATE, ECU_CONFIG_TOPIC];
  await late.waitFor(() => retained.every((t) => late.last(t) !== undefined), "retained copies");
  assert.ok(late.messages.every((m) => m.retain));
  assert.deepEqual(late.json(QS1_CONFIG_TOPIC), QS1_CONFIG);
  await late.end();

  // Any request is contact; a re-sent round changes no config and no counter.
  clock.advance(60_000);
  await send(devices, { type: "control_poll", ecuId: ECU_ID });
  await watch.waitForJson(ECU_STATE, (s) => s.last_contact === "2024-02-06T11:23:20+01:00");
  clock.advance(60_000);
  await send(devices, upload());
  await watch.waitForJson(ECU_STATE, (s) => s.last_contact === "2024-02-06T11:24:20+01:00");
  // Nothing of the inverters changed: no state, no discovery goes out again for them.
  assert.equal(watch.count(QS1_STATE), 1, "a re-sent round re-publishes no inverter state");
  assert.equal(watch.count(ECU_CONFIG_TOPIC), 1, "unchanged discovery is not re-published");
  assert.equal((watch.json(ECU_STATE) as { energy_today: number }).energy_today, ROUND_KWH);

  await bridge.stop();
  await watch.waitFor(() => watch.last(STATUS) === "offline", "offline on stop");
});

test("a broker restart mid-run loses no latest state", async () => {
  const clock = new TestClock(T0);
  const { bridge, devices } = startBridge({ now: clock.now });
  bridge.start();
  await send(devices, upload());
  await watch.waitFor(() => watch.last(QS1_STATE) !== undefined, "first states");

  await broker.stop();
  clock.advance(300_000);
  // Arrives while the broker is down: only the latest state is kept, nothing is queued.
  await send(devices, upload({ timestamp: "20240206112714", lifetimeKWh: 2128 }));
  watch.clear();
  await broker.start();

  await watch.waitForJson(ECU_STATE, (s) => s.lifetime_energy === 2128);
  await watch.waitFor(
    () =>
      [ECU_CONFIG_TOPIC, YC600_CONFIG_TOPIC, QS1_CONFIG_TOPIC, QS1_STATE, YC600_STATE].every(
        (t) => watch.last(t) !== undefined,
      ) && watch.last(STATUS) === "online",
    "everything re-published after the restart",
  );
  assert.deepEqual(watch.json(ECU_CONFIG_TOPIC), ECU_CONFIG);
  const ecu = watch.json(ECU_STATE) as Record<string, unknown>;
  assert.equal(ecu.energy_today, 2 * ROUND_KWH);
  assert.equal(ecu.last_upload, "2024-02-06T11:27:14+01:00");
  assert.equal((watch.json(QS1_STATE) as { energy_today: number }).energy_today, 0.02477);
});

test("Home Assistant's online birth message triggers a re-publish", async () => {
  const { bridge, devices, lines } = startBridge({ now: () => T0 });
  bridge.start();
  await send(devices, upload());
  await watch.waitFor(() => watch.last(QS1_CONFIG_TOPIC) !== undefined, "discovery");
  await watch.waitFor(() => watch.last(QS1_STATE) !== undefined, "states");
  watch.clear();
  await watch.client.publishAsync("homeassistant/status", "offline");
  await watch.client.publishAsync("homeassistant/status", "online");
  await watch.waitFor(
    () =>
      [ECU_CONFIG_TOPIC, YC600_CONFIG_TOPIC, QS1_CONFIG_TOPIC, ECU_STATE, QS1_STATE].every(
        (t) => watch.count(t) === 1,
      ),
    "configs and states again",
  );
  assert.deepEqual(watch.json(QS1_CONFIG_TOPIC), QS1_CONFIG);
  assert.ok(
    lines.some((l) => l.msg === "Home Assistant restarted: re-publishing discovery and states"),
  );
});

test("energy today resets at local midnight in Pacific/Auckland, not at UTC midnight", async () => {
  // 2024-02-06 23:50 NZDT (UTC+13) = 10:50 UTC.
  const clock = new TestClock(Date.UTC(2024, 1, 6, 10, 50, 0));
  const { bridge, devices } = startBridge({
    now: clock.now,
    optionOverrides: { timezone: "Pacific/Auckland", offline_after_minutes: 60 },
  });
  bridge.start();
  await send(devices, upload({ timestamp: "20240206234500" }));
  await watch.waitForJson(ECU_STATE, (s) => s.energy_today === ROUND_KWH);
  assert.equal(
    (watch.json(ECU_STATE) as { last_upload: string }).last_upload,
    "2024-02-06T23:45:00+13:00",
  );

  clock.advance(9 * 60_000); // 23:59 local: still the same day
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((watch.json(ECU_STATE) as { energy_today: number }).energy_today, ROUND_KWH);

  clock.advance(2 * 60_000); // 00:01 local on the 7th, still the 6th in UTC
  await watch.waitForJson(ECU_STATE, (s) => s.energy_today === 0 && s.max_power_today === null);
  await watch.waitForJson(QS1_STATE, (s) => s.energy_today === 0);
  assert.equal((watch.json(ECU_STATE) as { lifetime_energy: number }).lifetime_energy, 2127.9);

  // Yesterday's round re-sent after midnight does not count; today's first round does.
  await send(devices, upload({ timestamp: "20240206234500" }));
  await send(devices, upload({ timestamp: "20240207000500" }));
  await watch.waitForJson(ECU_STATE, (s) => s.last_upload === "2024-02-07T00:05:00+13:00");
  assert.equal((watch.json(ECU_STATE) as { energy_today: number }).energy_today, ROUND_KWH);
});

test("a restart with the same data dir keeps the counters", async () => {
  const dataDir = tempDir();
  const clock = new TestClock(T0);
  const first = startBridge({ now: clock.now, dataDir });
  first.bridge.start();
  await send(first.devices, upload());
  await watch.waitForJson(ECU_STATE, (s) => s.energy_today === ROUND_KWH);
  await first.bridge.stop();
  await first.devices.stop();

  clock.advance(300_000);
  const second = startBridge({ now: clock.now, dataDir });
  second.bridge.start();
  await send(second.devices, upload()); // re-sent round: already counted before the restart
  await send(second.devices, upload({ timestamp: "20240206112714", lifetimeKWh: 2128 }));
  await watch.waitForJson(ECU_STATE, (s) => s.lifetime_energy === 2128);
  const ecu = watch.json(ECU_STATE) as Record<string, unknown>;
  assert.equal(ecu.energy_today, 2 * ROUND_KWH);
  assert.equal(ecu.max_power_today, 190);
  // The inverters' states follow the ECU's in the same publish; wait for them too.
  await watch.waitForJson(YC600_STATE, (s) => s.energy_today === 0.005656);
});

test("a lifetime energy lower than the last accepted one is rejected and logged", async () => {
  const clock = new TestClock(T0);
  const { bridge, devices, lines } = startBridge({ now: clock.now });
  bridge.start();
  await send(devices, upload());
  clock.advance(300_000);
  await send(devices, upload({ timestamp: "20240206112714", lifetimeKWh: 2127.3 }));
  await watch.waitForJson(ECU_STATE, (s) => s.last_upload === "2024-02-06T11:27:14+01:00");
  assert.equal((watch.json(ECU_STATE) as { lifetime_energy: number }).lifetime_energy, 2127.9);
  const payloads = watch.messages.filter((m) => m.topic === ECU_STATE).map((m) => m.payload);
  assert.ok(
    payloads.every((p) => !p.includes("2127.3")),
    "the lower value never went out",
  );
  // Held back (src/devices/lifetime.ts): only rounds that confirm it could move the counter.
  const warning = lines.find((l) =>
    String(l.msg).startsWith("lifetime energy 2127.3 kWh does not follow 2127.9 kWh"),
  );
  assert.equal(warning?.level, 40);
  assert.equal(warning?.heldKWh, 2127.3);
  assert.equal(warning?.acceptedKWh, 2127.9);
});

test("no upload for offline_after_minutes: ECU offline, 0 W, inverters OFF, energy kept", async () => {
  const clock = new TestClock(T0);
  const { bridge, devices } = startBridge({
    now: clock.now,
    optionOverrides: { offline_after_minutes: 15 },
  });
  bridge.start();
  await send(devices, upload());
  await watch.waitForJson(QS1_STATE, (s) => s.power === 155);

  clock.advance(14 * 60_000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(watch.last(ECU_AVAIL), "online");

  clock.advance(60_000);
  await watch.waitFor(() => watch.last(ECU_AVAIL) === "offline", "ECU offline");
  await watch.waitForJson(ECU_STATE, (s) => s.power === 0 && s.inverters_online === 0);
  await watch.waitForJson(QS1_STATE, (s) => s.power === 0 && s.online === "OFF");
  const qs1 = watch.json(QS1_STATE) as { energy_today: number; channels: { power: number }[] };
  assert.equal(qs1.energy_today, 0.012385);
  assert.deepEqual(
    qs1.channels.map((c) => c.power),
    [0, 0, 0, 0],
  );
  assert.equal((watch.json(ECU_STATE) as { energy_today: number }).energy_today, ROUND_KWH);

  await send(devices, upload({ timestamp: "20240206114014" }));
  await watch.waitFor(() => watch.last(ECU_AVAIL) === "online", "ECU back online");
  await watch.waitForJson(QS1_STATE, (s) => s.online === "ON" && s.power === 155);
});

test("stop() returns within about a second even when the broker is gone", async () => {
  const { bridge } = startBridge({ now: () => T0 });
  bridge.start();
  await watch.waitFor(() => watch.last(STATUS) === "online", "online");
  await broker.stop();
  const started = Date.now();
  await bridge.stop();
  assert.ok(Date.now() - started < 1200, `stop took ${Date.now() - started} ms`);
  await broker.start();
});

test("contact alone is saved later (periodic check, stop), not for every request", async () => {
  const dataDir = tempDir();
  const clock = new TestClock(T0);
  const { bridge, devices } = startBridge({ now: clock.now, dataDir, checkIntervalMs: 60_000 });
  bridge.start();
  await send(devices, upload());
  await watch.waitForJson(ECU_STATE, (s) => s.energy_today === ROUND_KWH);
  const file = join(dataDir, "state.json");
  const onDisk = () =>
    (JSON.parse(readFileSync(file, "utf8")) as { ecus: Record<string, { lastContactAt: number }> })
      .ecus[ECU_ID]?.lastContactAt;
  // The round itself is in the journal; the snapshot is written now and then, not per request.
  const snapshot = readFileSync(file, "utf8");

  clock.advance(60_000);
  await send(devices, upload()); // a re-sent round
  await send(devices, { type: "control_poll", ecuId: ECU_ID });
  await watch.waitForJson(ECU_STATE, (s) => s.last_contact === "2024-02-06T11:23:20+01:00");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(file, "utf8"), snapshot, "no write for a resent round or a poll");

  await bridge.stop();
  await devices.stop(); // saves what the periodic check would have saved
  assert.equal(onDisk(), T0 + 60_000);
});

test("without an MQTT host the bridge only logs readings", async () => {
  const { bridge, devices, lines } = startBridge({ settings: undefined, now: () => T0 });
  bridge.start();
  await send(devices, upload());
  assert.ok(lines.some((l) => l.msg === "no MQTT broker configured: readings are only logged"));
  // The reading is taken (the proxy server logs its values at info; it is not part of this rig).
  const reading = lines.find((l) => l.msg === "upload applied");
  assert.equal(reading?.ecu, ECU_ID);
  assert.equal(reading?.freshness, "live");
  assert.equal(reading?.count, "counted");
  assert.equal(devices.ecu(ECU_ID)?.powerW, 190);
  assert.equal(devices.ecu(ECU_ID)?.lifetimeEnergyKWh, 2127.9);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(watch.messages.length, 0, "nothing reached the broker");
});

test("devices not seen for remove_stale_devices_after_days are removed from HA", async () => {
  const clock = new TestClock(T0);
  const { bridge, devices } = startBridge({
    now: clock.now,
    optionOverrides: { remove_stale_devices_after_days: 2 },
  });
  bridge.start();
  await send(devices, upload());
  await watch.waitFor(() => watch.last(QS1_CONFIG_TOPIC) !== undefined, "discovery");
  clock.advance(2 * 86_400_000 - 60_000);
  await new Promise((r) => setTimeout(r, 100));
  assert.notEqual(watch.last(QS1_CONFIG_TOPIC), "", "not yet stale");
  clock.advance(60_000);
  await watch.waitFor(
    () =>
      [ECU_CONFIG_TOPIC, YC600_CONFIG_TOPIC, QS1_CONFIG_TOPIC, ECU_STATE, QS1_STATE].every(
        (t) => watch.last(t) === "",
      ),
    "empty retained configs and states",
  );
  // The broker no longer holds them: a new subscriber sees nothing for these devices.
  const late = await MqttWatch.connect(broker.port);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(late.last(QS1_CONFIG_TOPIC), undefined);
  await late.end();
});

test("the broker password never appears in the log", async () => {
  const { bridge, devices, lines } = startBridge({
    now: () => T0,
    settings: { host: "127.0.0.1", port: broker.port, username: "addon", password: "s3cret-pw" },
  });
  bridge.start();
  await watch.waitFor(() => watch.last(STATUS) === "online", "online");
  await send(devices, upload());
  await bridge.stop();
  assert.ok(lines.length > 0);
  assert.ok(lines.every((l) => !JSON.stringify(l).includes("s3cret-pw")));
});

test("a password without a user name is dropped with a warning, and the bridge connects", async () => {
  const { bridge, lines } = startBridge({
    now: () => T0,
    settings: { host: "127.0.0.1", port: broker.port, password: "lonely" },
  });
  bridge.start();
  await watch.waitFor(() => watch.last(STATUS) === "online", "online");
  assert.ok(lines.some((l) => l.level === 40 && String(l.msg).includes("without a user name")));
});
