import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { DeviceChange } from "../../src/devices/changes.js";
import type { DevicesState } from "../../src/devices/model.js";
import { DeviceRegistry } from "../../src/devices/registry.js";
import { isDevicesState } from "../../src/devices/stateFile.js";
import type { UploadVerdict } from "../../src/proxy/responder.js";
import { exchangeOf, feed } from "../helpers/haHarness.js";
import { captureLogs } from "../helpers/logs.js";
import { amsterdam, devicesConfig, ECU, plusMinutes, type RoundSpec, upload } from "./rounds.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const tempDir = () => mkdtempSync(join(tmpdir(), "devices-"));

class Rig {
  now: number;
  readonly logs = captureLogs();
  readonly changes: DeviceChange[] = [];
  registry: DeviceRegistry;
  constructor(
    readonly dir: string,
    start: string,
    readonly overrides: Parameters<typeof devicesConfig>[3] = {},
  ) {
    this.now = amsterdam(start);
    this.registry = this.make();
  }
  make(): DeviceRegistry {
    const r = new DeviceRegistry(
      devicesConfig(this.dir, this.logs.logger, () => this.now, this.overrides),
    );
    r.onChange((c) => this.changes.push(c));
    r.start();
    return r;
  }
  async restart(): Promise<void> {
    await this.registry.stop();
    this.registry = this.make();
  }
  async send(spec: RoundSpec, delayMs = 3000): Promise<UploadVerdict | undefined> {
    this.now = amsterdam(spec.timestamp) + delayMs;
    return feed(this.registry, exchangeOf(upload(spec), this.now));
  }
  async settle(): Promise<void> {
    await this.registry.stop();
    this.registry = this.make();
  }
  file(): DevicesState {
    return JSON.parse(readFileSync(join(this.dir, "state.json"), "utf8")) as DevicesState;
  }
}

const PANELS = (w: number, wh?: number) => [
  {
    uid: "408000000001",
    panels: [
      { powerW: w, energyWh: wh },
      { powerW: w, energyWh: wh },
    ],
  },
];

test("counters survive restarts and never go down; Home Assistant is told only what is on disk", async () => {
  const rig = new Rig(tempDir(), "2026-12-03T11:00:00");
  const start = "2026-12-03T11:00:00";
  let lastLifetime = 0;
  for (let i = 0; i < 12; i++) {
    await rig.send({
      timestamp: plusMinutes(start, i * 5),
      lifetimeKWh: 1000 + i * 0.1,
      inverters: PANELS(120, 10),
    });
    if (i % 4 === 3) await rig.restart();
    const inv = rig.registry.allInverters[0];
    assert.ok(inv);
    assert.ok(inv.lifetimeMWh >= lastLifetime, "never down");
    lastLifetime = inv.lifetimeMWh;
  }
  await rig.registry.stop();
  const saved = rig.file();
  assert.ok(isDevicesState(saved), "the file is a valid version-2 state");
  assert.equal(saved.inverters["408000000001"]?.lifetimeMWh, 12 * 2 * 10_000);
  assert.equal(saved.inverters["408000000001"]?.channels[1]?.lifetimeMWh, 12 * 10_000);
  assert.equal(saved.ecus[ECU]?.lifetimeEnergyKWh, 1001.1);
  // Every change a reader was told about carries counters the file had at that moment.
  for (const change of rig.changes) {
    for (const inv of change.inverters) assert.ok(inv.lifetimeMWh <= 12 * 2 * 10_000);
  }
});

test("kill -9 in the middle of a stream of rounds: the file is whole and holds every round a reader was told of", async () => {
  const dir = tempDir();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(HERE, "registryChild.ts"), dir, "2026-12-03T09:00:00", "60"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const told: string[] = [];
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => told.push(...text.split("\n").filter(Boolean)));
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (told.length >= 20) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  const saved = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as unknown;
  assert.ok(isDevicesState(saved), "the snapshot is whole and valid");
  const last = told[told.length - 1] as string;
  // A restart reads the snapshot and the journal after it: every round a reader was told of.
  const restarted = new Rig(dir, last);
  const ecu = restarted.registry.ecu(ECU);
  assert.ok(
    ecu?.lastRoundTimestamp && ecu.lastRoundTimestamp >= last,
    `${ecu?.lastRoundTimestamp} >= ${last}`,
  );
  await restarted.registry.stop();
  // Counters continue from the files after a restart.
  const rig = new Rig(dir, plusMinutes(ecu.lastRoundTimestamp, 5));
  const before = rig.registry.allInverters[0]?.lifetimeMWh ?? 0;
  await rig.send({ timestamp: plusMinutes(ecu.lastRoundTimestamp, 5), inverters: PANELS(120, 10) });
  await rig.registry.stop();
  assert.equal(rig.file().inverters["408000000001"]?.lifetimeMWh, before + 20_000);
});

test("0.2.0's state.json and status.json are migrated into one file at start", async () => {
  const dir = tempDir();
  const fixtures = join(HERE, "..", "fixtures", "state-0.2.0");
  copyFileSync(join(fixtures, "state.json"), join(dir, "state.json"));
  copyFileSync(join(fixtures, "status.json"), join(dir, "status.json"));
  const rig = new Rig(dir, "2026-12-03T21:16:00");
  rig.now = Date.parse("2026-12-03T20:16:00Z");
  const ecu = rig.registry.ecu("216000000000");
  assert.ok(ecu);
  assert.equal(ecu.energyTodayMWh, 139_332);
  assert.equal(ecu.lifetimeEnergyKWh, 1234.5);
  assert.deepEqual(ecu.todayRounds, [
    ["2026-12-03T20:15:47", 836],
    ["2026-12-03T21:15:47", 836],
  ]);
  const qs1 = rig.registry.allInverters.find((i) => i.uid === "806000000001");
  assert.equal(qs1?.energyTodayMWh, 99_666);
  assert.equal(qs1?.lifetimeMWh, 99_666, "the inverter's lifetime starts at today's energy");
  assert.equal(qs1?.channels.length, 4);
  await rig.registry.stop();
  assert.ok(isDevicesState(rig.file()));
  assert.equal(existsSync(join(dir, "status.json")), false, "the page's old file is gone");
  assert.ok(rig.logs.lines.some((l) => String(l.msg).includes("version 0.2")));
});

test("a corrupt state file is moved aside and the proxy starts empty", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "state.json"), '{"version":2,"ecus":{"x":{}}');
  const rig = new Rig(dir, "2026-12-03T12:00:00");
  assert.equal(rig.registry.ecus.length, 0);
  assert.ok(readdirSync(dir).some((f) => f.startsWith("state.json.corrupt-")));
  await rig.registry.stop();
});

test("max_ecus: made-up ECU ids beyond the limit are not tracked, with one log line each", async () => {
  const rig = new Rig(tempDir(), "2026-12-03T12:00:00", {
    limits: { maxEcus: 3, maxInvertersPerEcu: 100 },
  });
  for (let i = 0; i < 50; i++) {
    const ecuId = `2160000${String(i).padStart(5, "0")}`;
    for (let r = 0; r < 2; r++) {
      await rig.send({ ecuId, timestamp: plusMinutes("2026-12-03T12:00:00", r), inverters: [] });
    }
  }
  assert.equal(rig.registry.ecus.length, 3);
  const refused = rig.logs.lines.filter((l) => String(l.msg).includes("max_ecus"));
  assert.equal(refused.length, 47, "one line per refused id");
  await rig.registry.stop();
  assert.equal(Object.keys(rig.file().ecus).length, 3);
});

test("an upload takes the place of an ECU known only from polls when max_ecus is reached", async () => {
  const rig = new Rig(tempDir(), "2026-12-03T12:00:00", {
    limits: { maxEcus: 1, maxInvertersPerEcu: 100 },
  });
  rig.registry.handleExchange(exchangeOf({ type: "control_poll", ecuId: "216000099999" }, rig.now));
  assert.equal(rig.registry.ecus[0]?.id, "216000099999");
  await rig.send({ timestamp: "2026-12-03T12:00:00", inverters: PANELS(100) });
  assert.deepEqual(
    rig.registry.ecus.map((e) => e.id),
    [ECU],
  );
  await rig.registry.stop();
});

test("offline after offline_after_minutes without a live round, and midnight resets today's counters", async () => {
  const rig = new Rig(tempDir(), "2026-12-03T23:40:00");
  await rig.send({ timestamp: "2026-12-03T23:40:00", inverters: PANELS(100, 8) });
  assert.equal(rig.registry.ecu(ECU)?.online, true);
  rig.now = amsterdam("2026-12-03T23:56:00");
  rig.registry.check();
  assert.equal(rig.registry.ecu(ECU)?.online, false);
  assert.equal(rig.registry.ecu(ECU)?.powerW, 0);
  assert.equal(rig.registry.allInverters[0]?.channels[0]?.powerW, 0);
  assert.equal(rig.registry.ecu(ECU)?.energyTodayMWh, 16_000);
  rig.now = amsterdam("2026-12-04T00:00:30");
  rig.registry.check();
  assert.equal(rig.registry.ecu(ECU)?.energyTodayMWh, 0);
  assert.equal(rig.registry.allInverters[0]?.energyTodayMWh, 0);
  assert.equal(rig.registry.allInverters[0]?.lifetimeMWh, 16_000, "lifetime stays");
  await rig.registry.stop();
});
