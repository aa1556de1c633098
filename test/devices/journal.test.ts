/**
 * The journal of rounds on real files (and, for failures, a real full or read-only filesystem):
 * group commit, the order of entries, what a reader makes of a write cut short, and that a
 * segment is never appended to after a failed write.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { RoundJournal, readJournal, StorageError, segmentName } from "../../src/devices/journal.js";
import { SmallDisk } from "../helpers/smallDisk.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "journal-"));

function journal(dir: string, beforeWrite: (lost: boolean) => Promise<void> = async () => {}) {
  return new RoundJournal<{ n: number }>({ dir, segment: 1, nextSeq: 1, sync: true, beforeWrite });
}

test("rounds appended together share one write and sync, and come back in order", async () => {
  const dir = tempDir();
  const j = journal(dir);
  const seqs = await Promise.all(Array.from({ length: 200 }, (_, n) => j.append(1000 + n, { n })));
  assert.deepEqual(
    seqs,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  assert.equal(j.writes, 1, "200 rounds of one event-loop turn: one write");
  // Rounds arriving while a write runs wait for it and share the next.
  const first = j.append(5000, { n: 200 });
  const more = Array.from({ length: 50 }, (_, n) => j.append(5001 + n, { n: 201 + n }));
  await Promise.all([first, ...more]);
  assert.ok(j.writes <= 3, `${j.writes} writes for 251 rounds`);
  await j.close();
  const read = readJournal<{ n: number }>(dir);
  assert.equal(read.unreadable, 0);
  assert.deepEqual(
    read.entries.map((e) => e.u.n),
    Array.from({ length: 251 }, (_, n) => n),
  );
  assert.deepEqual(read.entries[0], { s: 1, t: 1000, u: { n: 0 } });
});

test("a line cut short by a crash is left out; the lines before it are read", async () => {
  const dir = tempDir();
  const j = journal(dir);
  await j.append(1, { n: 1 });
  await j.append(2, { n: 2 });
  await j.close();
  appendFileSync(join(dir, segmentName(1)), '{"s":3,"t":3,"u":{"n"');
  const read = readJournal<{ n: number }>(dir);
  assert.deepEqual(
    read.entries.map((e) => e.s),
    [1, 2],
  );
  assert.equal(read.unreadable, 1);
});

test("segments are read in order, and rotation leaves the old ones for the snapshot to retire", async () => {
  const dir = tempDir();
  const j = journal(dir);
  await j.append(1, { n: 1 });
  const through = j.rotate();
  await j.append(2, { n: 2 });
  assert.equal(j.highestThrough(through), 1);
  assert.deepEqual(readdirSync(dir).sort(), [segmentName(1), segmentName(2)]);
  j.removeThrough(through);
  assert.deepEqual(readdirSync(dir), [segmentName(2)]);
  await j.close();
  assert.deepEqual(
    readJournal<{ n: number }>(dir).entries.map((e) => e.s),
    [2],
  );
});

test("on a full disk the rounds are refused with the system's reason, and the next write goes to a new segment", async (t) => {
  const disk = SmallDisk.mount(256);
  if ("skip" in disk) return t.skip(disk.skip);
  try {
    const dir = join(disk.dir, "data");
    const j = journal(dir);
    await j.append(1, { n: 1 });
    disk.fill();
    const big = { n: 2, pad: "x".repeat(64 * 1024) };
    await assert.rejects(j.append(2, big), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal((err.cause as NodeJS.ErrnoException).code, "ENOSPC");
      return true;
    });
    disk.free();
    await j.append(3, { n: 3 });
    await j.close();
    const segments = readdirSync(dir)
      .filter((n) => n.endsWith(".journal"))
      .sort();
    assert.equal(segments.length, 2, "the failed segment is not appended to again");
    assert.equal(
      readFileSync(join(dir, segments[1] as string), "utf8")
        .split("\n")[0]
        ?.includes('"s":3'),
      true,
    );
    const read = readJournal<{ n: number }>(dir);
    assert.ok(read.entries.some((e) => e.s === 3));
    assert.ok(read.entries.some((e) => e.s === 1));
  } finally {
    disk.unmount();
  }
});

test("a read-only filesystem refuses rounds (EROFS) until it is writable again", async (t) => {
  const disk = SmallDisk.mount(256);
  if ("skip" in disk) return t.skip(disk.skip);
  try {
    const dir = join(disk.dir, "data");
    const j = journal(dir);
    await j.append(1, { n: 1 });
    disk.readOnly();
    await assert.rejects(j.append(2, { n: 2 }), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal((err.cause as NodeJS.ErrnoException).code, "EROFS");
      return true;
    });
    disk.readWrite();
    await j.append(3, { n: 3 });
    await j.close();
    assert.deepEqual(
      readJournal<{ n: number }>(dir).entries.map((e) => e.s),
      [1, 3],
    );
  } finally {
    disk.unmount();
  }
});

test("a segment deleted under the journal is noticed: the owner is told before the next write", async () => {
  const dir = tempDir();
  const calls: boolean[] = [];
  const j = journal(dir, async (lost) => {
    calls.push(lost);
  });
  await j.append(1, { n: 1 });
  const { rmSync } = await import("node:fs");
  rmSync(dir, { recursive: true, force: true });
  await j.append(2, { n: 2 });
  await j.close();
  assert.deepEqual(calls, [false, true]);
  assert.deepEqual(
    readJournal<{ n: number }>(dir).entries.map((e) => e.s),
    [2],
    "the directory is made again and the round written into a new segment",
  );
});

test("a snapshot that rotates and retires segments while a write runs loses no round and raises no false alarm", async () => {
  const dir = tempDir();
  const calls: boolean[] = [];
  let snapshotDuringWrite = false;
  const j = journal(dir, async (lost) => {
    calls.push(lost);
    if (!snapshotDuringWrite) return;
    snapshotDuringWrite = false;
    // Runs while the write and its sync are under way (they need the thread pool): as a
    // snapshot that started then and finished first would, it rotates and retires what it holds.
    setImmediate(() => {
      const through = j.rotate();
      j.removeThrough(through);
    });
  });
  await j.append(1, { n: 1 });
  snapshotDuringWrite = true;
  await j.append(2, { n: 2 });
  await j.append(3, { n: 3 });
  await j.close();
  assert.deepEqual(calls, [false, false, false], "no segment was lost");
  assert.deepEqual(
    readJournal<{ n: number }>(dir).entries.map((e) => e.s),
    [1, 2, 3],
    "the segment written during the rotation is kept: it holds round 2, which the snapshot does not",
  );
  assert.equal(j.highestThrough(1), 2, "round 2 is known to be in the segment it went to");
});

test("a snapshot that rotates while a write opens its file sends the round to the new segment", async () => {
  const dir = tempDir();
  const calls: boolean[] = [];
  const j = journal(dir, async (lost) => {
    calls.push(lost);
  });
  await j.append(1, { n: 1 });
  const second = j.append(2, { n: 2 });
  // A few microtask turns: the write has named segment 1 and waits for the file to open (the
  // thread pool), as when a snapshot's rotation comes in between.
  for (let i = 0; i < 3; i++) await Promise.resolve();
  const through = j.rotate();
  j.removeThrough(through);
  await second;
  await j.append(3, { n: 3 });
  await j.close();
  assert.deepEqual(calls, [false, false, false], "no segment was lost");
  const read = readJournal<{ n: number }>(dir);
  assert.deepEqual(
    read.entries.map((e) => e.s),
    [2, 3],
  );
  assert.match(
    readFileSync(join(dir, segmentName(2)), "utf8"),
    /"s":2,/,
    "round 2 went to the segment after the rotation",
  );
  // The open under way may have made segment 1 again after it was retired: empty, then.
  assert.ok(!read.segments.includes(1) || readFileSync(join(dir, segmentName(1))).length === 0);
});
