import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MAX_ROUNDS_PER_DAY } from "../../src/devices/counters.js";
import { STATE_FILE } from "../../src/devices/stateFile.js";
import { ecuValues } from "../../src/ha/values.js";
import { startProxy } from "../../src/main.js";
import { parseOptions } from "../../src/options/load.js";
import { encodeUpload } from "../../src/protocol/build.js";
import type { ExchangeListener } from "../../src/proxy/exchange.js";
import { startStatusPage } from "../../src/status/index.js";
import { type DevicesView, StatusModel } from "../../src/status/model.js";
import type { Mode, StatusSnapshot } from "../../src/status/types.js";
import { ECU_FRAMES, exchangeOf } from "../helpers/exchanges.js";
import { ECU_ID, UPLOAD_ANSWER, uploadFrame, uploadWire } from "../helpers/fixtures.js";
import { feed, startDevices, TestClock, tempDir } from "../helpers/haHarness.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { ecuExchange } from "../helpers/tcp.js";

const ZONE = "Europe/Amsterdam";
/** The capture's round, 2024-02-06 11:22:14 Amsterdam time, arrives a few seconds later. */
const ARRIVAL = Date.parse("2024-02-06T10:22:20Z");
/** Sum of the capture's channel energies (1.409 + … Wh). */
const CAPTURE_WH = 15.213;

/** The capture's round at another time of the same ECU (only the timestamp differs). */
function roundAt(hhmmss: string, date = "20240206"): Buffer {
  return Buffer.from(
    uploadFrame()
      .toString("latin1")
      .replace("20240206112214", date + hhmmss),
  );
}

/**
 * The device registry and the status model on one injected clock, each given every exchange
 * the way the proxy server hands them out (main.ts): the page reads the registry's devices.
 */
function rig(options: { mode?: Mode; optionOverrides?: Record<string, unknown> } = {}) {
  const clock = new TestClock(ARRIVAL);
  const devices = startDevices({
    now: clock.now,
    logger: captureLogs().logger,
    ...(options.optionOverrides ? { optionOverrides: options.optionOverrides } : {}),
  });
  const model = new StatusModel({
    mode: options.mode ?? "cloudless",
    timezone: ZONE,
    version: "t",
    devices,
    now: clock.now,
  });
  const send = async (frame: Buffer | string, port?: number) => {
    const ex = exchangeOf(frame, { at: clock.ms, ...(port ? { port } : {}) });
    await feed(devices, ex);
    model.handleExchange(ex);
  };
  return { clock, devices, model, send, stop: () => devices.stop() };
}

test("today's chart keeps each (ECU, round) once, only today's rounds, and clears at local midnight", async () => {
  const { clock, model, send, stop } = rig();
  try {
    await send(uploadFrame());
    await send(uploadFrame());
    await send(roundAt("112214", "20240205")); // yesterday's
    await send(roundAt("090000")); // a late round
    const series = () => model.snapshot().ecus[0]?.series;
    const points = [
      { t: "09:00", w: 190 },
      { t: "11:22", w: 190 },
    ];
    assert.deepEqual(series(), points);
    // 23:59 Amsterdam is 22:59 UTC: still the same day; one minute later a new one starts.
    clock.ms = Date.parse("2024-02-06T22:59:00Z");
    assert.deepEqual(series(), points);
    clock.ms = Date.parse("2024-02-06T23:00:00Z");
    assert.deepEqual(series(), []);
  } finally {
    await stop();
  }
});

test("today's energy is the Home Assistant bridge's counter, so the page and HA agree", async () => {
  const { clock, devices, model, send, stop } = rig();
  // What the bridge sends Home Assistant for this ECU, from the same registry.
  const haEnergyToday = () => {
    const ecu = devices.ecu(ECU_ID);
    assert.ok(ecu);
    return ecuValues(ecu, devices.inverters(ECU_ID), "cloudless", ZONE).energy_today;
  };
  try {
    await send(ECU_FRAMES.poll);
    const polled = model.snapshot().ecus[0];
    assert.equal(polled?.lastUploadAt, null, "no upload yet (the page shows — for today)");
    assert.equal(polled?.energyTodayWh, 0);
    for (const frame of [uploadFrame(), roundAt("090000"), uploadFrame()]) await send(frame);
    assert.equal(model.snapshot().ecus[0]?.energyTodayWh, 2 * CAPTURE_WH, "each round once");
    assert.equal(haEnergyToday(), 0.030426);
    clock.ms = Date.parse("2024-02-06T23:00:10Z");
    // Until the registry's next check both still show yesterday's counter: they never differ.
    assert.equal(model.snapshot().ecus[0]?.energyTodayWh, 2 * CAPTURE_WH);
    assert.equal(haEnergyToday(), 0.030426);
    devices.check(); // the registry's periodic check: a new day starts at local midnight
    assert.equal(haEnergyToday(), 0);
    assert.equal(model.snapshot().ecus[0]?.energyTodayWh, 0);
  } finally {
    await stop();
  }
});

test("a day's rounds are bounded", async () => {
  const { clock, devices, model, stop } = rig({ optionOverrides: { timezone: "UTC" } });
  clock.ms = Date.parse("2024-02-06T23:00:00Z");
  try {
    for (let i = 0; i < MAX_ROUNDS_PER_DAY + 50; i++) {
      const s = i % 60;
      const m = Math.floor(i / 60) % 60;
      const h = Math.floor(i / 3600);
      const hhmmss = [h, m, s].map((n) => String(n).padStart(2, "0")).join("");
      await feed(devices, exchangeOf(roundAt(hhmmss), { at: clock.ms }));
    }
    assert.equal(model.snapshot().ecus[0]?.series.length, MAX_ROUNDS_PER_DAY);
  } finally {
    await stop();
  }
});

test("live values follow the newest round; an old round only adds to today's chart", async () => {
  const { clock, model, send, stop } = rig();
  try {
    model.setPorts([8995, 8996, 8997]);
    assert.equal(model.seenTraffic, false);
    await send(uploadFrame(), 8996);
    clock.advance(1000);
    await send(roundAt("090000"), 8995);
    clock.advance(1000);
    const s = model.snapshot();
    assert.equal(model.seenTraffic, true);
    const ecu = s.ecus[0];
    assert.equal(ecu?.id, ECU_ID);
    assert.equal(ecu?.lastRoundTimestamp, "2024-02-06T11:22:14");
    assert.equal(ecu?.lastUploadAt, ARRIVAL);
    assert.equal(ecu?.lastContactAt, ARRIVAL + 1000);
    assert.equal(ecu?.powerW, 190);
    assert.deepEqual(ecu?.series, [
      { t: "09:00", w: 190 },
      { t: "11:22", w: 190 },
    ]);
    assert.deepEqual(
      ecu?.inverters.map((i) => [
        i.uid,
        i.model,
        i.online,
        i.temperatureC,
        i.channels.map((c) => c.powerW),
      ]),
      [
        ["408000111178", "YC600", true, 13, [17, 18]],
        ["806000011223", "QS1", true, 15, [29, 38, 45, 43]],
      ],
    );
    assert.deepEqual(
      s.ports.map((p) => [p.port, p.purpose, p.last?.type ?? null, p.last?.answer ?? null]),
      [
        [8995, "uploads", "upload", "10120240206090000"],
        [8996, "uploads", "upload", UPLOAD_ANSWER],
        [8997, "control", null, null],
      ],
    );
    assert.equal(s.recent[0]?.remote, "192.168.1.50", "IPv4-mapped addresses shown plainly");
    assert.equal(s.today, "2024-02-06");
  } finally {
    await stop();
  }
});

test("an inverter missing from the newest round is offline and produces nothing", async () => {
  const { clock, model, send, stop } = rig();
  try {
    await send(uploadFrame());
    const later = encodeUpload({
      ecuId: ECU_ID,
      timestamp: "20240206113000",
      lifetimeEnergyKWh: 2128,
      inverters: [
        {
          uid: "806000011223",
          typeCode: "08",
          acVoltageV: 230,
          frequencyHz: 50,
          temperatureC: 16,
          channels: [1, 2, 3, 4].map((powerW) => ({
            powerW,
            dcVoltageV: 30,
            dcCurrentA: 0.1,
            energyWh: 0.1,
          })),
        },
      ],
    });
    const laterAt = Date.parse("2024-02-06T10:30:03Z");
    clock.ms = laterAt;
    await send(later);
    clock.advance(1);
    await send(ECU_FRAMES.poll, 8997);
    const ecu = model.snapshot().ecus[0];
    const yc600 = ecu?.inverters.find((i) => i.uid === "408000111178");
    assert.equal(yc600?.online, false);
    assert.deepEqual(
      yc600?.channels.map((c) => c.powerW),
      [0, 0],
    );
    assert.equal(ecu?.inverters.find((i) => i.uid === "806000011223")?.online, true);
    assert.equal(ecu?.lastContactAt, laterAt + 1, "a control poll is contact too");
    assert.equal(ecu?.lastUploadAt, laterAt);
  } finally {
    await stop();
  }
});

test("message kinds an ECU sends that cannot be decoded are listed on its card", async () => {
  const { model, send, stop } = rig();
  try {
    await send(ECU_FRAMES.aps16);
    await send(ECU_FRAMES.aps16);
    await send(ECU_FRAMES.unknownAps13);
    const ecu = model.snapshot().ecus[0];
    assert.deepEqual(ecu?.unknownKinds, ["APS16", "APS13/A119"]);
    assert.equal(ecu?.lastUploadAt, null);
  } finally {
    await stop();
  }
});

test("ECUs outside allowed_ecu_ids show among the exchanges but get no card", async () => {
  // The allow-list sits between the server and the registry (main.ts): the real wiring.
  const proxy = await startProxy({
    options: parseOptions({ timezone: ZONE, allowed_ecu_ids: ["216000099999"] }),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir("status-allow-"),
    statusPort: 0,
    statusAccess: { host: "127.0.0.1", allowFrom: null, ingress: false },
    logger: captureLogs().logger,
  });
  try {
    const model = proxy.status?.model;
    assert.ok(model);
    const port = proxy.server.boundPorts[0] ?? 0;
    await ecuExchange(port, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
    const s = await waitFor(() => {
      const snap = model.snapshot();
      return snap.recent.length > 0 && snap;
    }, "the exchange on the page");
    assert.deepEqual(s.ecus, []);
    assert.equal(s.recent[0]?.ecuId, ECU_ID);
  } finally {
    await proxy.stop();
  }
});

test("in forwarding mode EMA counts as reachable while it answers, unreachable once the proxy must", () => {
  const noDevices: DevicesView = {
    ecus: [],
    inverters: () => [],
    today: () => "2024-02-06",
    storageHealth: { ok: true, problem: null, unconfirmedRounds: 0 },
  };
  const config = { timezone: ZONE, version: "t", devices: noDevices };
  const model = new StatusModel({ ...config, mode: "forwarding" });
  assert.equal(model.snapshot().ema.reachable, null);
  model.handleExchange({ ...exchangeOf(uploadFrame()), answeredBy: "ema" });
  assert.deepEqual(model.snapshot().ema, {
    reachable: true,
    answersFromEma: 1,
    answersFromProxy: 0,
  });
  model.handleExchange(exchangeOf(uploadFrame()));
  assert.deepEqual(model.snapshot().ema, {
    reachable: false,
    answersFromEma: 1,
    answersFromProxy: 1,
  });
  const cloudless = new StatusModel({ ...config, mode: "cloudless" });
  cloudless.handleExchange(exchangeOf(uploadFrame()));
  assert.equal(cloudless.snapshot().ema.reachable, null);
});

test("devices and today's chart survive a restart (saved under the data directory)", async () => {
  const dataDir = tempDir("status-today-");
  const start = async () => {
    const devices = startDevices({ dataDir, now: () => ARRIVAL, logger: captureLogs().logger });
    let listener: ExchangeListener = () => {};
    const page = await startStatusPage({
      port: 0,
      mode: "cloudless",
      timezone: ZONE,
      dataDir,
      captureMaxBytes: 64 * 1024,
      devices,
      access: { host: "127.0.0.1", allowFrom: null, ingress: false },
      ports: [8995],
      onExchange: (l) => {
        listener = l;
      },
      logger: captureLogs().logger,
      now: () => ARRIVAL + 5000,
    });
    return {
      page,
      send: async (frame: Buffer) => {
        const ex = exchangeOf(frame, { at: ARRIVAL });
        await feed(devices, ex);
        listener(ex);
      },
      stop: async () => {
        await page.stop();
        await devices.stop();
      },
    };
  };
  const first = await start();
  await first.send(uploadFrame());
  await first.send(roundAt("100000"));
  await first.stop();
  assert.ok(existsSync(join(dataDir, STATE_FILE)));
  assert.equal(JSON.parse(readFileSync(join(dataDir, STATE_FILE), "utf8")).day, "2024-02-06");

  const second = await start();
  try {
    const reply = await fetch(`http://127.0.0.1:${second.page.server.port}/api/status`);
    const status = (await reply.json()) as StatusSnapshot;
    // The ECU is shown as last seen (no first-run guide after a restart at night).
    assert.equal(status.ecus[0]?.id, ECU_ID);
    assert.equal(status.ecus[0]?.lastUploadAt, ARRIVAL);
    assert.equal(status.ecus[0]?.inverters.length, 2);
    assert.deepEqual(status.ecus[0]?.series, [
      { t: "10:00", w: 190 },
      { t: "11:22", w: 190 },
    ]);
    assert.equal(second.page.captures.list().length, 1, "captures were kept too (one sample)");
    // The same round after the restart is still one point.
    await second.send(uploadFrame());
    assert.equal(second.page.model.snapshot().ecus[0]?.series.length, 2);
  } finally {
    await second.stop();
  }
});

test("an ECU whose clock runs 3 hours behind: the page shows the offset, the wrong clock, and today's chart on the wall clock", async () => {
  const { clock, model, send, stop } = rig();
  try {
    // Rounds made at 11:22:14, 11:27:14, 11:32:14 on the wall clock, stamped three hours earlier.
    for (const [i, stamp] of ["082214", "082714", "083214"].entries()) {
      clock.ms = ARRIVAL + i * 5 * 60_000;
      await send(roundAt(stamp));
    }
    const ecu = model.snapshot().ecus[0];
    assert.ok(ecu);
    assert.ok(Math.abs((ecu.clockOffsetS ?? 0) + 3 * 3600 + 6) <= 2, `${ecu.clockOffsetS} s`);
    assert.equal(ecu.clockWrong, true);
    assert.equal(ecu.powerW, 190, "live");
    // The chart: the live round at its wall-clock time (the two before were backlog).
    assert.deepEqual(ecu.series.at(-1), { t: "11:32", w: 190 });
  } finally {
    await stop();
  }
});
