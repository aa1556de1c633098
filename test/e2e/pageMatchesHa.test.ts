/**
 * Issue 15, "Done when": the status page and Home Assistant show the same values for the same
 * device. One device registry on an injected clock, the Home Assistant bridge on a real
 * mosquitto and the status page over HTTP, wired as main.ts wires them; after uploads, after a
 * silence past offline_after_minutes and after a local midnight, the page's `api/status` and
 * the retained MQTT states must agree on power, energy today, lifetime energy and online.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createHomeAssistantBridge, type HomeAssistantBridge } from "../../src/ha/bridge.js";
import { homeAssistantConfig } from "../../src/options/parts.js";
import type { ExchangeListener } from "../../src/proxy/exchange.js";
import { type RunningStatusPage, startStatusPage } from "../../src/status/index.js";
import type { StatusSnapshot } from "../../src/status/types.js";
import { ECU_ID, QS1, YC600 } from "../ha/expected.js";
import { exchangeOf } from "../helpers/exchanges.js";
import {
  captureFrame,
  captureLogger,
  feed,
  startDevices,
  TestClock,
  tempDir,
  testOptions,
  type UploadEdits,
} from "../helpers/haHarness.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";

const OPTIONS = { timezone: "Europe/Amsterdam", offline_after_minutes: 15 };
const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;
const ECU_AVAIL = `apsystems_ecu_proxy/ecu/${ECU_ID}/availability`;
const inverterState = (uid: string) => `apsystems_ecu_proxy/inverter/${uid}/state`;
/** 2024-02-06 11:22:20 in Amsterdam, six seconds after the capture's round. */
const T0 = Date.UTC(2024, 1, 6, 10, 22, 20);
/** The capture's round energy, mWh (ECU), and per inverter. */
const ROUND_MWH = 15213;
const INVERTER_ROUND_MWH: Record<string, number> = { [YC600]: 2828, [QS1]: 12385 };

let broker: Mosquitto;
let watch: MqttWatch;
let bridge: HomeAssistantBridge;
let page: RunningStatusPage;
let devices: ReturnType<typeof startDevices>;
let listener: ExchangeListener = () => {};
const clock = new TestClock(T0);

before(async () => {
  broker = await Mosquitto.start();
  watch = await MqttWatch.connect(broker.port);
  const { logger } = captureLogger();
  const dataDir = tempDir("page-ha-");
  // The periodic check is run by the test (devices.check()), as the timer would run it.
  devices = startDevices({
    dataDir,
    optionOverrides: OPTIONS,
    now: clock.now,
    logger,
    checkIntervalMs: 3_600_000,
  });
  bridge = createHomeAssistantBridge({
    ...homeAssistantConfig(testOptions(OPTIONS)),
    settings: { host: "127.0.0.1", port: broker.port },
    devices,
    logger,
  });
  bridge.start();
  page = await startStatusPage({
    port: 0,
    mode: "cloudless",
    timezone: OPTIONS.timezone,
    dataDir,
    captureMaxBytes: 64 * 1024,
    devices,
    access: { host: "127.0.0.1", allowFrom: null, ingress: false },
    ports: [8995],
    onExchange: (l) => {
      listener = l;
    },
    logger,
    now: clock.now,
  });
  await watch.waitFor(() => watch.last("apsystems_ecu_proxy/status") === "online", "bridge online");
});

after(async () => {
  await page?.stop();
  await bridge?.stop();
  await devices?.stop();
  await watch?.end();
  await broker?.stop();
});

/** An upload as the proxy server hands it out: to the registry and to the page. */
async function upload(edits: UploadEdits): Promise<void> {
  const ex = exchangeOf(captureFrame(edits), { at: clock.ms });
  await feed(devices, ex);
  listener(ex);
}

/** One device's values as a reader sees them; energies in mWh (the counters' unit). */
interface Shown {
  online: boolean;
  powerW: number | null;
  energyTodayMWh: number;
  lifetimeKWh?: number | null;
}

const mWh = (kWh: number): number => Math.round(kWh * 1e6);
const channelSum = (powers: Array<number | null>): number | null =>
  powers.every((p) => p === null)
    ? null
    : Math.round(powers.reduce<number>((a, p) => a + (p ?? 0), 0) * 100) / 100;

async function pageShows(): Promise<Record<string, Shown>> {
  const reply = await fetch(`http://127.0.0.1:${page.server.port}/api/status`);
  const status = (await reply.json()) as StatusSnapshot;
  const shown: Record<string, Shown> = {};
  for (const ecu of status.ecus) {
    shown[ecu.id] = {
      online: ecu.online,
      powerW: ecu.powerW,
      energyTodayMWh: Math.round(ecu.energyTodayWh * 1000),
      lifetimeKWh: ecu.lifetimeEnergyKWh,
    };
    for (const inv of ecu.inverters) {
      shown[inv.uid] = {
        online: inv.online,
        powerW: channelSum(inv.channels.map((c) => c.powerW)),
        energyTodayMWh: Math.round(inv.energyTodayWh * 1000),
      };
    }
  }
  return shown;
}

function homeAssistantShows(): Record<string, Shown> {
  const shown: Record<string, Shown> = {};
  const ecu = watch.json(ECU_STATE) as Record<string, number | null> | undefined;
  if (ecu) {
    shown[ECU_ID] = {
      online: watch.last(ECU_AVAIL) === "online",
      powerW: ecu.power ?? null,
      energyTodayMWh: mWh(ecu.energy_today ?? 0),
      lifetimeKWh: ecu.lifetime_energy ?? null,
    };
  }
  for (const uid of [YC600, QS1]) {
    const inv = watch.json(inverterState(uid)) as Record<string, unknown> | undefined;
    if (!inv) continue;
    shown[uid] = {
      online: inv.online === "ON",
      powerW: (inv.power as number | null) ?? null,
      energyTodayMWh: mWh(inv.energy_today as number),
    };
  }
  return shown;
}

/**
 * Waits until what Home Assistant holds agrees with the page (publishing follows the state
 * file's write), then returns the values both show.
 */
async function bothShow(what: string): Promise<Record<string, Shown>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const onPage = await pageShows();
    const inHa = homeAssistantShows();
    try {
      assert.deepEqual(inHa, onPage);
      return onPage;
    } catch (err) {
      if (Date.now() > deadline) {
        (err as Error).message =
          `${what}: Home Assistant and the page disagree\n${(err as Error).message}`;
        throw err;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("after uploads the page and Home Assistant show the same power, energy, lifetime and online", async () => {
  await upload({});
  clock.advance(5 * 60_000);
  await upload({ timestamp: "20240206112714", lifetimeKWh: 2128 });
  const shown = await bothShow("after two rounds");
  assert.deepEqual(shown[ECU_ID], {
    online: true,
    powerW: 190,
    energyTodayMWh: 2 * ROUND_MWH,
    lifetimeKWh: 2128,
  });
  assert.deepEqual(shown[YC600], {
    online: true,
    powerW: 35,
    energyTodayMWh: 2 * (INVERTER_ROUND_MWH[YC600] ?? 0),
  });
  assert.deepEqual(shown[QS1], {
    online: true,
    powerW: 155,
    energyTodayMWh: 2 * (INVERTER_ROUND_MWH[QS1] ?? 0),
  });
});

test("after a silence past offline_after_minutes both show the ECU offline at 0 W, energy kept", async () => {
  clock.advance(14 * 60_000);
  devices.check();
  assert.equal((await bothShow("within the limit"))[ECU_ID]?.online, true);
  clock.advance(60_000);
  devices.check();
  const shown = await bothShow("past the limit");
  assert.deepEqual(shown[ECU_ID], {
    online: false,
    powerW: 0,
    energyTodayMWh: 2 * ROUND_MWH,
    lifetimeKWh: 2128,
  });
  assert.deepEqual(shown[QS1], {
    online: false,
    powerW: 0,
    energyTodayMWh: 2 * (INVERTER_ROUND_MWH[QS1] ?? 0),
  });
});

test("after local midnight both start today's energy from zero; the next round counts on both", async () => {
  // 2024-02-07 00:00:30 in Amsterdam.
  clock.ms = Date.UTC(2024, 1, 6, 23, 0, 30);
  devices.check();
  const night = await bothShow("after midnight");
  assert.deepEqual(night[ECU_ID], {
    online: false,
    powerW: 0,
    energyTodayMWh: 0,
    lifetimeKWh: 2128,
  });
  assert.equal(night[YC600]?.energyTodayMWh, 0);
  assert.equal(night[QS1]?.energyTodayMWh, 0);

  clock.ms = Date.UTC(2024, 1, 6, 23, 5, 6);
  await upload({ timestamp: "20240207000500", lifetimeKWh: 2128.1 });
  const morning = await bothShow("the first round of the day");
  assert.deepEqual(morning[ECU_ID], {
    online: true,
    powerW: 190,
    energyTodayMWh: ROUND_MWH,
    lifetimeKWh: 2128.1,
  });
  assert.equal(morning[QS1]?.energyTodayMWh, INVERTER_ROUND_MWH[QS1]);
});
