import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createHomeAssistantBridge } from "../../src/ha/bridge.js";
import { parseOptions } from "../../src/options/load.js";
import { encodeUpload } from "../../src/protocol/build.js";
import type { ExchangeListener } from "../../src/proxy/exchange.js";
import { STATE_FILE, startStatusPage } from "../../src/status/index.js";
import { StatusModel } from "../../src/status/model.js";
import { MAX_ROUNDS_PER_DAY, TodaySeries } from "../../src/status/today.js";
import type { StatusSnapshot } from "../../src/status/types.js";
import { ECU_FRAMES, exchangeOf } from "../helpers/exchanges.js";
import { ECU_ID, UPLOAD_ANSWER, uploadFrame } from "../helpers/fixtures.js";
import { captureLogs } from "../helpers/logs.js";

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

test("today's chart keeps each (ECU, round) once, only today's rounds, and clears at local midnight", () => {
  const today = new TodaySeries(ZONE);
  assert.equal(today.addRound(ECU_ID, "2024-02-06T11:22:14", 190, ARRIVAL), true);
  assert.equal(today.addRound(ECU_ID, "2024-02-06T11:22:14", 190, ARRIVAL + 1000), false);
  assert.equal(today.addRound(ECU_ID, "2024-02-05T11:22:14", 190, ARRIVAL), false, "yesterday");
  assert.equal(today.addRound(ECU_ID, "2024-02-06T09:00:00", 80, ARRIVAL), true, "late round");
  const points = [
    { t: "09:00", w: 80 },
    { t: "11:22", w: 190 },
  ];
  assert.deepEqual(today.series(ECU_ID, ARRIVAL), points);
  // 23:59 Amsterdam is 22:59 UTC: still the same day; one minute later a new one starts.
  assert.deepEqual(today.series(ECU_ID, Date.parse("2024-02-06T22:59:00Z")), points);
  assert.deepEqual(today.series(ECU_ID, Date.parse("2024-02-06T23:00:00Z")), []);
});

test("today's energy is the Home Assistant bridge's counter, so the page and HA agree", async () => {
  let now = ARRIVAL;
  const bridge = createHomeAssistantBridge({
    settings: undefined,
    options: parseOptions({ timezone: ZONE }),
    dataDir: mkdtempSync(join(tmpdir(), "status-bridge-")),
    logger: captureLogs().logger,
    mode: "cloudless",
    now: () => now,
  });
  await bridge.start();
  const model = new StatusModel({
    mode: "cloudless",
    timezone: ZONE,
    version: "t",
    now: () => now,
    energyToday: (id) => bridge.energyTodayWh(id),
  });
  try {
    model.handleExchange(exchangeOf(ECU_FRAMES.poll, { at: now }));
    assert.equal(model.snapshot().ecus[0]?.energyTodayWh, null, "no upload yet: not known");
    for (const frame of [uploadFrame(), roundAt("090000"), uploadFrame()]) {
      const ex = exchangeOf(frame, { at: now });
      bridge.handleExchange(ex);
      model.handleExchange(ex);
    }
    assert.equal(model.snapshot().ecus[0]?.energyTodayWh, 2 * CAPTURE_WH, "each round once");
    now = Date.parse("2024-02-06T23:00:10Z");
    assert.equal(model.snapshot().ecus[0]?.energyTodayWh, 0, "a new day starts at local midnight");
  } finally {
    await bridge.stop();
  }
});

test("a day's rounds are bounded", () => {
  const today = new TodaySeries("UTC");
  const now = Date.parse("2024-02-06T23:00:00Z");
  for (let i = 0; i < MAX_ROUNDS_PER_DAY + 50; i++) {
    const s = i % 60;
    const m = Math.floor(i / 60) % 60;
    const h = Math.floor(i / 3600);
    const ts = `2024-02-06T${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
    today.addRound(ECU_ID, ts, 1, now);
  }
  assert.equal(today.series(ECU_ID, now).length, MAX_ROUNDS_PER_DAY);
});

test("live values follow the newest round; an old round only adds to today's chart", () => {
  let now = ARRIVAL;
  const model = new StatusModel({
    mode: "cloudless",
    timezone: ZONE,
    version: "t",
    now: () => now,
  });
  model.setPorts([8995, 8996, 8997]);
  assert.equal(model.seenTraffic, false);
  model.handleExchange(exchangeOf(uploadFrame(), { port: 8996, at: now }));
  model.handleExchange(exchangeOf(roundAt("090000"), { port: 8995, at: now + 1000 }));
  now += 2000;
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
});

test("an inverter missing from the newest round is offline and produces nothing", () => {
  const model = new StatusModel({
    mode: "cloudless",
    timezone: ZONE,
    version: "t",
    now: () => ARRIVAL,
  });
  model.handleExchange(exchangeOf(uploadFrame(), { at: ARRIVAL }));
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
  model.handleExchange(exchangeOf(later, { at: ARRIVAL + 1 }));
  model.handleExchange(exchangeOf(ECU_FRAMES.poll, { port: 8997, at: ARRIVAL + 2 }));
  const ecu = model.snapshot().ecus[0];
  const yc600 = ecu?.inverters.find((i) => i.uid === "408000111178");
  assert.equal(yc600?.online, false);
  assert.deepEqual(
    yc600?.channels.map((c) => c.powerW),
    [0, 0],
  );
  assert.equal(ecu?.inverters.find((i) => i.uid === "806000011223")?.online, true);
  assert.equal(ecu?.lastContactAt, ARRIVAL + 2, "a control poll is contact too");
  assert.equal(ecu?.lastUploadAt, ARRIVAL + 1);
});

test("message kinds an ECU sends that cannot be decoded are listed on its card", () => {
  const model = new StatusModel({ mode: "cloudless", timezone: ZONE, version: "t" });
  model.handleExchange(exchangeOf(ECU_FRAMES.aps16));
  model.handleExchange(exchangeOf(ECU_FRAMES.aps16));
  model.handleExchange(exchangeOf(ECU_FRAMES.unknownAps13));
  const ecu = model.snapshot().ecus[0];
  assert.deepEqual(ecu?.unknownKinds, ["APS16", "APS13/A100"]);
  assert.equal(ecu?.lastUploadAt, null);
});

test("ECUs outside allowed_ecu_ids show among the exchanges but get no card", () => {
  const model = new StatusModel({
    mode: "cloudless",
    timezone: ZONE,
    version: "t",
    allowedEcuIds: ["216000099999"],
  });
  model.handleExchange(exchangeOf(uploadFrame()));
  const s = model.snapshot();
  assert.deepEqual(s.ecus, []);
  assert.equal(s.recent[0]?.ecuId, ECU_ID);
});

test("in forwarding mode EMA counts as reachable while it answers, unreachable once the proxy must", () => {
  const model = new StatusModel({ mode: "forwarding", timezone: ZONE, version: "t" });
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
  const cloudless = new StatusModel({ mode: "cloudless", timezone: ZONE, version: "t" });
  cloudless.handleExchange(exchangeOf(uploadFrame()));
  assert.equal(cloudless.snapshot().ema.reachable, null);
});

test("devices and today's chart survive a restart (saved under the data directory)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "status-today-"));
  const start = async () => {
    let listener: ExchangeListener = () => {};
    const page = await startStatusPage({
      port: 0,
      mode: "cloudless",
      timezone: ZONE,
      dataDir,
      captureMaxBytes: 64 * 1024,
      access: { host: "127.0.0.1", allowFrom: null, ingress: false },
      ports: [8995],
      onExchange: (l) => {
        listener = l;
      },
      logger: captureLogs().logger,
      now: () => ARRIVAL + 5000,
    });
    return { page, send: (frame: Buffer) => listener(exchangeOf(frame, { at: ARRIVAL })) };
  };
  const first = await start();
  first.send(uploadFrame());
  first.send(roundAt("100000"));
  await first.page.stop();
  assert.ok(existsSync(join(dataDir, STATE_FILE)));
  assert.equal(JSON.parse(readFileSync(join(dataDir, STATE_FILE), "utf8")).today.day, "2024-02-06");

  const second = await start();
  try {
    const reply = await fetch(`http://127.0.0.1:${second.page.server.port}/api/status`);
    const status = (await reply.json()) as StatusSnapshot;
    // The ECU is shown as last seen (no first-run guide after a restart at night).
    assert.equal(status.ecus[0]?.id, ECU_ID);
    assert.equal(status.ecus[0]?.lastUploadAt, ARRIVAL);
    assert.equal(status.ecus[0]?.inverters.length, 2);
    assert.deepEqual(second.page.model.today.series(ECU_ID, ARRIVAL), [
      { t: "10:00", w: 190 },
      { t: "11:22", w: 190 },
    ]);
    assert.equal(second.page.captures.list().length, 1, "captures were kept too (one sample)");
    // The same round after the restart is still one point.
    second.send(uploadFrame());
    assert.equal(second.page.model.snapshot().ecus[0]?.series.length, 2);
  } finally {
    await second.page.stop();
  }
});
