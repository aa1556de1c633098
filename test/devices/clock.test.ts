/**
 * An ECU whose clock or zone is wrong (issue 20), through the real registry: its offset is
 * learned from how its rounds arrive, its live values come through from the third round, every
 * round is counted once, and neither a burst of old rounds nor one forged round moves the offset.
 * The ECU is simulated as FW-R18 behaves (protocol.md §4.1, §6): one connection per round, a
 * round left unconfirmed is sent again in the next cycle before the new one.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { DeviceChange } from "../../src/devices/changes.js";
import { CORRECT_FROM_S } from "../../src/devices/clock.js";
import type { DevicesState } from "../../src/devices/model.js";
import { DeviceRegistry } from "../../src/devices/registry.js";
import { roundSeconds } from "../../src/devices/roundTime.js";
import { ecuValues } from "../../src/ha/values.js";
import type { UploadVerdict } from "../../src/proxy/responder.js";
import { exchangeOf, feed } from "../helpers/haHarness.js";
import { captureLogs } from "../helpers/logs.js";
import { amsterdam, devicesConfig, ECU, plusMinutes, upload, ZONE } from "./rounds.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "clock-"));
const INVERTER = "408000000001";
/** Two panels at 120 W, 10 Wh each per round. */
const PANELS = [
  {
    uid: INVERTER,
    panels: [
      { powerW: 120, energyWh: 10 },
      { powerW: 120, energyWh: 10 },
    ],
  },
];
const ROUND_MWH = 20_000;
const START = "2026-12-03T10:00:00";

/** Wall-clock local time (Amsterdam, winter) of an instant. */
const localTs = (ms: number) => new Date(ms + 3_600_000).toISOString().slice(0, 19);

class Rig {
  now: number;
  readonly logs = captureLogs();
  readonly changes: DeviceChange[] = [];
  registry: DeviceRegistry;
  constructor(
    readonly dir: string,
    start = START,
  ) {
    this.now = amsterdam(start);
    this.registry = this.make();
  }
  make(): DeviceRegistry {
    const r = new DeviceRegistry(devicesConfig(this.dir, this.logs.logger, () => this.now));
    r.onChange((c) => this.changes.push(c));
    r.start();
    return r;
  }
  /** One upload stamped `stamp` (ECU time), arriving at `arrival` (epoch ms). */
  send(stamp: string, arrival: number, ecuId = ECU): Promise<UploadVerdict | undefined> {
    this.now = arrival;
    const message = upload({ ecuId, timestamp: stamp, lifetimeKWh: 1000, inverters: PANELS });
    return feed(this.registry, exchangeOf(message, arrival));
  }
  ecu() {
    const ecu = this.registry.ecu(ECU);
    assert.ok(ecu);
    return ecu;
  }
  lifetimeMWh(): number {
    return this.registry.allInverters.find((i) => i.uid === INVERTER)?.lifetimeMWh ?? 0;
  }
  values() {
    return ecuValues(this.ecu(), this.registry.inverters(ECU), "cloudless", ZONE);
  }
}

/** An ECU whose clock reads `clock(wall time)`, making a round every 5 minutes. */
class SimEcu {
  /** Stamps made and not confirmed yet (the ECU's flag 1), oldest first. */
  readonly pending: string[] = [];
  readonly made: string[] = [];
  readonly verdicts: Array<{ stamp: string; confirm: boolean }> = [];
  constructor(
    readonly rig: Rig,
    readonly clock: (wallTs: string) => string,
  ) {}
  /**
   * One 5-minute cycle at wall time `wall`: the unconfirmed rounds first (`backlog`: older ones
   * it buffered, e.g. after an outage), then the new one.
   */
  async cycle(wall: number, makeNew = true, backlog: string[] = []): Promise<void> {
    if (makeNew) {
      const stamp = this.clock(localTs(wall));
      this.made.push(stamp);
      this.pending.push(stamp);
    }
    this.made.push(...backlog);
    this.pending.unshift(...backlog);
    let at = wall + 5000;
    for (const stamp of [...this.pending]) {
      const verdict = await this.rig.send(stamp, at);
      at += 1000;
      const confirm = verdict?.confirm === true;
      this.verdicts.push({ stamp, confirm });
      if (confirm) this.pending.splice(this.pending.indexOf(stamp), 1);
    }
  }
}

const shiftMinutes = (minutes: number) => (ts: string) => plusMinutes(ts, minutes);
const shiftYears = (years: number) => (ts: string) =>
  `${String(Number(ts.slice(0, 4)) + years).padStart(4, "0")}${ts.slice(4)}`;

const CASES: Array<{ name: string; clock: (ts: string) => string; offsetS: number }> = [
  // 2001-12-03 → 2026-12-03, both in winter time: 25 years of days (6 leap days among them).
  { name: "25 years behind", clock: shiftYears(-25), offsetS: -(25 * 365 + 6) * 86_400 },
  { name: "3 hours behind", clock: shiftMinutes(-180), offsetS: -180 * 60 },
  { name: "20 minutes behind", clock: shiftMinutes(-20), offsetS: -20 * 60 },
  { name: "2 hours ahead", clock: shiftMinutes(120), offsetS: 120 * 60 },
  { name: "7 hours ahead", clock: shiftMinutes(420), offsetS: 420 * 60 },
];

for (const { name, clock, offsetS } of CASES) {
  test(`an ECU whose clock runs ${name}: live from the third round, every round counted once`, async () => {
    const rig = new Rig(tempDir());
    const ecu = new SimEcu(rig, clock);
    const wall = (i: number) => amsterdam(plusMinutes(START, i * 5));
    for (let i = 0; i < 3; i++) await ecu.cycle(wall(i));
    // The third round is live: Home Assistant gets its values.
    const live = rig.ecu();
    assert.equal(live.online, true, "live after three rounds");
    assert.equal(live.powerW, 240);
    assert.equal(live.lastRoundTimestamp, ecu.made[2]);
    assert.equal(rig.registry.inverters(ECU)[0]?.online, true);
    const told = rig.changes.at(-1);
    assert.ok(told?.reasons.includes("round") && told.ecus[0]?.powerW === 240, "readers told");
    const values = rig.values();
    assert.equal(values.power, 240);
    assert.equal(values.clock_offset, Math.round(offsetS / 60));
    assert.equal(values.clock_wrong, "ON");
    // Last upload is the wall-clock time of that round, not the ECU's.
    const lastUpload = Date.parse(values.last_upload ?? "");
    assert.ok(
      Math.abs(lastUpload - wall(2)) < 60_000,
      `${values.last_upload} ≈ ${localTs(wall(2))}`,
    );
    const learned = live.clock.offsetS ?? Number.NaN;
    assert.ok(Math.abs(learned - offsetS) <= 30, `learned ${learned} s ≈ ${offsetS} s`);

    for (let i = 3; i < 8; i++) await ecu.cycle(wall(i));
    // The ECU resends what was refused until it is confirmed; then nothing is left.
    await ecu.cycle(wall(8), false);
    assert.deepEqual(ecu.pending, [], "every round confirmed in the end");
    assert.equal(rig.lifetimeMWh(), ecu.made.length * ROUND_MWH, "each round counted once");
    const counted = new Set(rig.ecu().countedRounds);
    for (const stamp of ecu.made) assert.ok(counted.has(roundSeconds(stamp)), `${stamp} counted`);
    // Confirmed rounds sent again (the ECU missed the answer) add nothing.
    for (const stamp of ecu.made) await rig.send(stamp, rig.now + 1000);
    assert.equal(rig.lifetimeMWh(), ecu.made.length * ROUND_MWH, "resends add nothing");
    // Energy today follows the corrected day; only the rounds before the offset was learned are
    // missing there, and only when the ECU's date is not today's (2001).
    const today = rig.ecu().energyTodayMWh;
    const early = clock(START).slice(0, 10) === START.slice(0, 10) ? 0 : 2;
    assert.equal(today, (ecu.made.length - early) * ROUND_MWH);
    assert.equal(rig.ecu().online, true);
    assert.equal(rig.ecu().lastRoundTimestamp, ecu.made.at(-1));
    await rig.registry.stop();
  });
}

test("an ECU 2 hours ahead that also resends a large backlog is live from the third round", async () => {
  const rig = new Rig(tempDir());
  const ecu = new SimEcu(rig, shiftMinutes(120));
  const wall = (i: number) => amsterdam(plusMinutes(START, i * 5));
  // Yesterday's rounds (ECU time), 15 per cycle, back to back before the new round.
  const yesterday = Array.from({ length: 45 }, (_, i) => plusMinutes("2026-12-02T09:00:00", i * 5));
  for (let i = 0; i < 3; i++) await ecu.cycle(wall(i), true, yesterday.slice(i * 15, i * 15 + 15));
  assert.equal(rig.ecu().lastRoundTimestamp, ecu.made.at(-16), "the third new round is live");
  assert.equal(rig.values().clock_offset, 120);
  await ecu.cycle(wall(3));
  assert.deepEqual(ecu.pending, []);
  assert.equal(rig.lifetimeMWh(), ecu.made.length * ROUND_MWH, "each round counted once");
  await rig.registry.stop();
});

test("a round dated ahead is never confirmed and then dropped: each confirmed round is counted", async () => {
  const rig = new Rig(tempDir());
  const ecu = new SimEcu(rig, shiftMinutes(120));
  const wall = (i: number) => amsterdam(plusMinutes(START, i * 5));
  for (let i = 0; i < 6; i++) await ecu.cycle(wall(i));
  await ecu.cycle(wall(6), false);
  const refused = ecu.verdicts.filter((v) => !v.confirm).map((v) => v.stamp);
  assert.ok(refused.length >= 2, "the first rounds were refused (the ECU keeps them)");
  assert.deepEqual(ecu.pending, [], "every refused round was taken when sent again");
  assert.equal(rig.lifetimeMWh(), ecu.made.length * ROUND_MWH);
  let confirmed = 0;
  for (const v of ecu.verdicts) {
    if (!v.confirm) continue;
    confirmed++;
    assert.ok(rig.ecu().countedRounds.includes(roundSeconds(v.stamp)), `${v.stamp} counted`);
  }
  assert.equal(rig.lifetimeMWh(), confirmed * ROUND_MWH);
  // A round ahead of the corrected time is still refused.
  const far = plusMinutes(ecu.clock(localTs(rig.now)), 60);
  assert.deepEqual(await rig.send(far, rig.now + 1000), {
    confirm: false,
    reason: "round dated ahead of the clock",
  });
  await rig.registry.stop();
});

test("a burst of buffered old rounds from a correct clock is backlog, learned or not", async () => {
  const rig = new Rig(tempDir());
  // First contact: 20 rounds of the last 100 minutes, back to back.
  const end = amsterdam(START);
  for (let i = 20; i >= 1; i--)
    await rig.send(localTs(end - i * 5 * 60_000), end + (21 - i) * 1000);
  assert.equal(rig.ecu().clock.offsetS, null, "a burst teaches the clock nothing");
  assert.equal(rig.ecu().backlogRounds, 18, "all but the two within the live window");
  // Three fresh rounds: the clock is right.
  for (let i = 1; i <= 3; i++) {
    const made = end + i * 5 * 60_000;
    await rig.send(localTs(made), made + 4000);
  }
  const offset = rig.ecu().clock.offsetS ?? Number.NaN;
  assert.ok(Math.abs(offset) < CORRECT_FROM_S, `offset ${offset} s: the upload's delay`);
  assert.equal(rig.values().clock_wrong, "OFF");
  // An outage of an hour, then the buffered rounds and the new one in one burst.
  const back = end + 80 * 60_000;
  const backlogBefore = rig.ecu().backlogRounds;
  for (let i = 12; i >= 0; i--) {
    await rig.send(localTs(back - i * 5 * 60_000), back + (13 - i) * 1000);
  }
  assert.equal(rig.ecu().clock.offsetS, offset, "the offset did not move");
  assert.equal(rig.ecu().backlogRounds - backlogBefore, 10, "rounds over 15 minutes old: backlog");
  assert.equal(rig.lifetimeMWh(), (20 + 3 + 13) * ROUND_MWH, "each counted once");
  assert.equal(rig.ecu().lastRoundTimestamp, localTs(back));
  await rig.registry.stop();
});

test("one round from a LAN host with a far-off time cannot move a learned offset", async () => {
  const rig = new Rig(tempDir());
  const ecu = new SimEcu(rig, shiftMinutes(-180));
  const wall = (i: number) => amsterdam(plusMinutes(START, i * 5));
  for (let i = 0; i < 4; i++) await ecu.cycle(wall(i));
  const learned = rig.ecu().clock.offsetS;
  assert.ok(learned !== null && Math.abs(learned + 180 * 60) <= 30);
  // Forged rounds, each alone: far ahead, far behind, and one right beside a real round.
  for (const [i, forged] of [
    [4, "2040-01-01T12:00:00"],
    [6, "1999-05-05T05:05:05"],
    [8, plusMinutes(START, 600)],
  ] as const) {
    await rig.send(forged, wall(i) - 90_000);
    await ecu.cycle(wall(i));
    assert.equal(rig.ecu().clock.offsetS, learned, `${forged}: offset unchanged`);
    assert.equal(rig.ecu().lastRoundTimestamp, ecu.made.at(-1), "the real round is live");
    await rig.send(forged, wall(i) + 7000);
    assert.equal(rig.ecu().clock.offsetS, learned, `${forged} beside a real round`);
    await ecu.cycle(wall(i + 1));
  }
  assert.equal(rig.values().clock_offset, -180);
  await rig.registry.stop();
});

test("the learned offset is saved, read back, defaulted for older files and bounded on load", async () => {
  const dir = tempDir();
  let rig = new Rig(dir);
  const ecu = new SimEcu(rig, shiftMinutes(120));
  const wall = (i: number) => amsterdam(plusMinutes(START, i * 5));
  for (let i = 0; i < 4; i++) await ecu.cycle(wall(i));
  const learned = rig.ecu().clock.offsetS;
  await rig.registry.stop();
  const file = () => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as DevicesState;
  assert.equal(file().ecus[ECU]?.clock.offsetS, learned);
  // After a restart the first round is live at once.
  rig = new Rig(dir);
  const next = ecu.clock(localTs(wall(4)));
  assert.deepEqual(await rig.send(next, wall(4) + 5000), { confirm: true });
  assert.equal(rig.ecu().lastRoundTimestamp, next);
  await rig.registry.stop();
  const lifetime = file().inverters[INVERTER]?.lifetimeMWh;
  // A file of an earlier version has no clock: the default, counters intact.
  const old = file();
  delete (old.ecus[ECU] as { clock?: unknown }).clock;
  writeFileSync(join(dir, "state.json"), JSON.stringify(old));
  rig = new Rig(dir);
  assert.deepEqual(rig.ecu().clock, { offsetS: null, samples: [] });
  assert.equal(rig.lifetimeMWh(), lifetime);
  await rig.registry.stop();
  // Evidence no ECU can have: reset, with one log line; counters intact.
  for (const clock of [
    { offsetS: 1e300, samples: [] },
    { offsetS: null, samples: Array.from({ length: 50 }, (_, i) => [i, i, 0]) },
    { offsetS: 0, samples: [[1, 2, "x"]] },
  ]) {
    const bad = file();
    (bad.ecus[ECU] as { clock: unknown }).clock = clock;
    writeFileSync(join(dir, "state.json"), JSON.stringify(bad));
    rig = new Rig(dir);
    assert.deepEqual(rig.ecu().clock, { offsetS: null, samples: [] });
    assert.equal(rig.lifetimeMWh(), lifetime);
    assert.equal(rig.logs.lines.filter((l) => l.msg.includes("clock evidence")).length, 1);
    assert.ok(!readdirSync(dir).some((f) => f.includes("corrupt")), "not moved aside");
    await rig.registry.stop();
  }
});

test("after a crash the journal applies each round with the correction it was judged with", async () => {
  const dir = tempDir();
  const rig = new Rig(dir);
  const ecu = new SimEcu(rig, shiftMinutes(120));
  const wall = (i: number) => amsterdam(plusMinutes(START, i * 5));
  for (let i = 0; i < 3; i++) await ecu.cycle(wall(i));
  const lifetime = rig.lifetimeMWh();
  const today = rig.ecu().energyTodayMWh;
  assert.equal(lifetime, ROUND_MWH, "the third round, live and counted");
  // What a kill -9 leaves: a snapshot and the journal after it. The refused rounds that taught
  // the clock are in no journal; say the snapshot was written before them.
  const crashed = tempDir();
  cpSync(dir, crashed, { recursive: true });
  const journal = readdirSync(crashed).filter((f) => f.endsWith(".journal"));
  assert.ok(journal.length > 0);
  const snapshot = JSON.parse(readFileSync(join(crashed, "state.json"), "utf8")) as DevicesState;
  for (const e of Object.values(snapshot.ecus)) delete (e as { clock?: unknown }).clock;
  writeFileSync(join(crashed, "state.json"), JSON.stringify(snapshot));
  const restarted = new Rig(crashed, plusMinutes(START, 11));
  assert.equal(restarted.lifetimeMWh(), lifetime, "the confirmed round is counted after replay");
  assert.equal(restarted.ecu().energyTodayMWh, today);
  await restarted.registry.stop();
  await rig.registry.stop();
});
