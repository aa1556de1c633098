/**
 * The device registry's durable store on real files and a real small filesystem: a confirmed
 * round survives a crash (journal replay), rounds are refused while storage fails and counted
 * once when the ECU resends them, a deleted data directory is made again from memory, and the
 * state file check refuses what no installation can have.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { DeviceChange } from "../../src/devices/changes.js";
import { DeviceRegistry } from "../../src/devices/registry.js";
import { captureLogs, type LogLine, waitFor } from "../helpers/logs.js";
import { SmallDisk } from "../helpers/smallDisk.js";
import { amsterdam, devicesConfig, ECU, plusMinutes, upload } from "./rounds.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "store-"));
const START = "2026-12-03T09:00:00";
const UID = "408000000001";
/** Each round: two panels of 10 Wh. */
const ROUND_MWH = 20_000;

class Rig {
  now = amsterdam(START);
  readonly logs = captureLogs();
  readonly changes: DeviceChange[] = [];
  registry: DeviceRegistry;
  constructor(
    readonly dir: string,
    readonly overrides: Parameters<typeof devicesConfig>[3] = {},
  ) {
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
  /** Round `i` (5 minutes apart), as the ECU sends it, 2 s after it was made. */
  round(i: number) {
    const timestamp = plusMinutes(START, i * 5);
    this.now = amsterdam(timestamp) + 2000;
    return upload({
      timestamp,
      lifetimeKWh: 1000 + i * 0.1,
      inverters: [
        {
          uid: UID,
          panels: [
            { powerW: 120, energyWh: 10 },
            { powerW: 120, energyWh: 10 },
          ],
        },
      ],
    });
  }
  send(i: number) {
    return this.registry.acceptUpload(this.round(i));
  }
  lifetime(registry = this.registry): number {
    return registry.allInverters.find((inv) => inv.uid === UID)?.lifetimeMWh ?? 0;
  }
  errors(): LogLine[] {
    return this.logs.lines.filter((l) => l.level >= 50);
  }
}

test("a crash right after confirmed rounds loses none: the restart applies the journal after the snapshot", async () => {
  const rig = new Rig(tempDir());
  for (let i = 0; i < 30; i++) assert.deepEqual(await rig.send(i), { confirm: true });
  // No stop: the process is gone (a kill -9 or a power cut) with the rounds only in the journal.
  const after = new Rig(rig.dir);
  after.now = rig.now;
  assert.equal(after.lifetime(), 30 * ROUND_MWH);
  assert.equal(after.registry.ecu(ECU)?.countedRounds.length, 30);
  assert.ok(after.logs.lines.some((l) => /applied again from the journal/.test(l.msg)));
  // A resend of a round counted before the crash is confirmed and not counted again.
  assert.deepEqual(await after.send(29), { confirm: true });
  assert.equal(after.lifetime(), 30 * ROUND_MWH);
  await after.registry.stop();
  // A clean stop leaves the snapshot alone, holding everything.
  assert.deepEqual(
    readdirSync(rig.dir).filter((n) => n.endsWith(".journal")),
    [],
    "no journal segment is left after a clean stop",
  );
  const third = new Rig(rig.dir);
  assert.equal(third.lifetime(), 30 * ROUND_MWH);
  await third.registry.stop();
});

test("readers are told of a round only once it is durable, and never of a refused one", async (t) => {
  const disk = SmallDisk.mount(512);
  if ("skip" in disk) return t.skip(disk.skip);
  try {
    const rig = new Rig(join(disk.dir, "data"));
    assert.deepEqual(await rig.send(0), { confirm: true });
    const told = () =>
      rig.changes.flatMap((c) => c.inverters).filter((inv) => inv.uid === UID).length;
    disk.fill();
    // An append may still fit in the last block of its file (then it is durable and confirmed):
    // send rounds until the disk refuses one.
    let refusedAt = -1;
    for (let i = 1; i < 60 && refusedAt < 0; i++) {
      const verdict = await rig.send(i);
      if (!verdict.confirm) {
        refusedAt = i;
        assert.match(verdict.reason, /storage failing \(ENOSPC/);
      }
    }
    assert.ok(refusedAt > 0, "the full disk refused a round");
    const counted = refusedAt * ROUND_MWH;
    assert.equal(rig.lifetime(), counted, "the refused round is not counted in memory either");
    const toldBefore = told();
    assert.equal(rig.registry.storageHealth.ok, false);
    assert.equal(rig.registry.storageHealth.problem?.code, "ENOSPC");
    const errors = rig.errors().filter((l) => /cannot store rounds/.test(l.msg));
    assert.equal(errors.length, 1, "one error line per fault");
    assert.match(String(errors[0]?.fix), /full: free some space/);
    // Within the backoff the disk is not even tried; the ECU is refused at once.
    assert.equal((await rig.send(refusedAt + 1)).confirm, false);
    assert.equal(rig.errors().filter((l) => /cannot store rounds/.test(l.msg)).length, 1);
    assert.equal(told(), toldBefore, "no reader was told of a refused round");

    disk.free();
    await new Promise((r) => setTimeout(r, 1100)); // the first backoff step
    // The ECU kept both rounds and sends them again: each counted once.
    assert.deepEqual(await rig.send(refusedAt), { confirm: true });
    assert.deepEqual(await rig.send(refusedAt + 1), { confirm: true });
    assert.deepEqual(await rig.send(refusedAt + 1), { confirm: true });
    assert.equal(rig.lifetime(), counted + 2 * ROUND_MWH);
    assert.equal(rig.registry.storageHealth.ok, true);
    assert.ok(rig.logs.lines.some((l) => l.level === 30 && /rounds are stored again/.test(l.msg)));
    assert.equal(rig.registry.storageHealth.unconfirmedRounds, 2);
    // And a restart shows no lower counter than the readers saw.
    const after = new Rig(rig.dir);
    assert.equal(after.lifetime(), counted + 2 * ROUND_MWH);
    await after.registry.stop();
  } finally {
    disk.unmount();
  }
});

test("a data directory deleted under the running proxy is made again, with the whole state from memory", async () => {
  const rig = new Rig(tempDir());
  for (let i = 0; i < 5; i++) await rig.send(i);
  rmSync(rig.dir, { recursive: true, force: true });
  assert.deepEqual(await rig.send(5), { confirm: true });
  assert.ok(existsSync(join(rig.dir, "state.json")), "the snapshot is written again");
  assert.ok(rig.errors().some((l) => /was deleted under the running proxy/.test(l.msg)));
  // Not stopped: what a crash now would leave is all six rounds.
  const after = new Rig(rig.dir);
  assert.equal(after.lifetime(), 6 * ROUND_MWH);
  await after.registry.stop();
});

test("a snapshot deleted while the journal holds rounds after it is written again before the next round", async () => {
  const rig = new Rig(tempDir());
  for (let i = 0; i < 3; i++) await rig.send(i);
  rmSync(join(rig.dir, "state.json"));
  await rig.send(3);
  const after = new Rig(rig.dir);
  assert.equal(after.lifetime(), 4 * ROUND_MWH);
  await after.registry.stop();
});

test("while snapshots fail the journal grows to its limit, then rounds are refused", async () => {
  const dir = tempDir();
  const rig = new Rig(dir, { maxJournalBytes: 4096 });
  await rig.send(0);
  // The snapshot cannot replace a directory of its name: every snapshot fails, the journal works.
  rmSync(join(dir, "state.json"));
  mkdirSync(join(dir, "state.json", "blocked"), { recursive: true });
  let confirmed = 0;
  let refused: { confirm: false; reason: string } | undefined;
  for (let i = 1; i < 40 && !refused; i++) {
    const verdict = await rig.send(i);
    if (verdict.confirm) confirmed++;
    else refused = verdict;
  }
  // The journal itself works: rounds are confirmed until it reaches its limit.
  assert.ok(confirmed >= 1 && refused, `${confirmed} confirmed, then refused`);
  assert.match(refused.reason, /EJOURNALFULL/);
  assert.equal(rig.registry.storageHealth.ok, false);
  await waitFor(
    () => rig.errors().some((l) => /cannot write the state snapshot/.test(l.msg)),
    "the refusal tried a snapshot, which failed",
  );
  // Once the snapshot can be written, the journal is emptied and rounds are taken again.
  rmSync(join(dir, "state.json"), { recursive: true });
  assert.equal((await rig.send(39)).confirm, false, "refused while the snapshot is under way");
  await waitFor(() => rig.registry.storageHealth.problem?.what === "journal", "snapshot written");
  await waitFor(() => !existsSync(join(dir, "rounds-000001.journal")), "old segments retired");
  assert.deepEqual(await rig.send(39), { confirm: true });
  assert.equal(rig.registry.storageHealth.ok, true);
  const lifetime = rig.lifetime();
  await rig.registry.stop();
  const after = new Rig(dir);
  assert.equal(after.lifetime(), lifetime, "every confirmed round survives");
  await after.registry.stop();
});

test("the state file check refuses negative, non-finite and impossible counters", async () => {
  const rig = new Rig(tempDir());
  await rig.send(0);
  await rig.registry.stop();
  const good = readFileSync(join(rig.dir, "state.json"), "utf8");
  const cases: Array<[string, (text: string) => string, RegExp]> = [
    [
      "negative",
      (t) => t.replace(/"lifetimeMWh":20000,"missingRounds"/, '"lifetimeMWh":-5,"missingRounds"'),
      /lifetimeMWh -5/,
    ],
    [
      "1e294",
      (t) =>
        t.replace(/"energyTodayMWh":20000,"lifetimeMWh"/, '"energyTodayMWh":1e294,"lifetimeMWh"'),
      /energyTodayMWh 1e\+294/,
    ],
    [
      "non-finite",
      (t) => t.replace(/"lifetimeEnergyKWh":1000,/, '"lifetimeEnergyKWh":1e999,'),
      /lifetimeEnergyKWh/,
    ],
  ];
  for (const [name, edit, reason] of cases) {
    const dir = tempDir();
    const edited = edit(good);
    assert.notEqual(edited, good, `${name}: the edit applies`);
    writeFileSync(join(dir, "state.json"), edited);
    const r = new Rig(dir);
    assert.equal(r.lifetime(), 0, `${name}: refused`);
    const warn = r.logs.lines.find((l) => /state file is corrupt/.test(l.msg));
    assert.match(String(warn?.msg), reason, `${name}: the log names the value`);
    assert.ok(
      readdirSync(dir).some((n) => n.startsWith("state.json.corrupt-")),
      `${name}: kept aside`,
    );
    await r.registry.stop();
  }
});

test("temporary files left by interrupted writes are removed at start", async () => {
  const dir = tempDir();
  for (const name of ["state.json.tmp-4242", "state.json.tmp-17", "captures.jsonl.tmp-99"]) {
    writeFileSync(join(dir, name), "half");
  }
  const rig = new Rig(dir);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes(".tmp-")),
    [],
  );
  await rig.registry.stop();
});
