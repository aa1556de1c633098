/**
 * The journal of rounds: what makes a `101` answer a kept promise. The ECU deletes a round once
 * it reads `101` + the round's time (protocol.md §4.1), so the round must be on disk first.
 *
 * Why a journal and not the state file: rewriting the whole state for every round costs the
 * whole state per round (1.5 MB and ~7 ms of CPU at the 16 ECU × 100 inverter limits, far more
 * time on an SD card, and that much card wear every five minutes per ECU); appending the round
 * costs the round. So each round is appended to a segment file and made durable (fdatasync)
 * before it is applied and confirmed, and the whole state is written now and then as a snapshot
 * (store.ts) that names the last round it holds; at start the snapshot is read and the rounds
 * after it are applied again — the way databases make commits durable (a write-ahead log with
 * checkpoints). Group commit: rounds that arrive while one write and sync run share the next one,
 * so ECUs are never serialised behind the disk.
 *
 * A segment is never appended to after a failed write: a torn line can only be the last of its
 * segment, and a reader drops it (it was never confirmed). Lines are JSON:
 * `{"s": sequence, "t": epoch ms of arrival, "u": the decoded upload}`.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { syncPath } from "../atomicFile.js";
import { MAX_OFFSET_S } from "./clock.js";

export const SEGMENT_PATTERN = /^rounds-(\d{6,})\.journal$/;

export function segmentName(n: number): string {
  return `rounds-${String(n).padStart(6, "0")}.journal`;
}

export interface JournalEntry<T> {
  /** Sequence number, rising by one per append (across restarts). */
  s: number;
  /** Epoch ms the round arrived: the `now` it is applied with, then and on replay. */
  t: number;
  u: T;
  /** The clock correction (s) the round was judged with (clock.ts); absent in older entries. */
  c?: number;
}

/** A write or sync of the journal failed; `path` is the file, `cause` the system's error. */
export class StorageError extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    super(`${code ?? (cause as Error)?.message ?? "error"} writing ${path}`);
  }
}

export interface JournalOptions {
  dir: string;
  /** First segment number to write and the next sequence number (after what start found). */
  segment: number;
  nextSeq: number;
  /**
   * Runs before each write. `lost`: the segment being written vanished (the data directory was
   * deleted under the proxy); the owner then writes a snapshot of all it holds before the write
   * goes on in a new segment. Throws to fail the write.
   */
  beforeWrite: (lost: boolean) => Promise<void>;
  /** fdatasync after each write (off only for the benchmark's comparison). */
  sync: boolean;
}

interface Pending {
  line: string;
  seq: number;
  resolve: (seq: number) => void;
  reject: (err: StorageError) => void;
}

export interface ReadSegments<T> {
  entries: JournalEntry<T>[];
  /** Segment numbers found, ascending. */
  segments: number[];
  /** Lines that did not parse (a write cut short by a crash: never confirmed). */
  unreadable: number;
}

/** Every entry of every segment in `dir`, in order. */
export function readJournal<T>(dir: string): ReadSegments<T> {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // No directory yet: no journal.
  }
  const segments = names
    .map((n) => SEGMENT_PATTERN.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const entries: JournalEntry<T>[] = [];
  let unreadable = 0;
  for (const n of segments) {
    let text = "";
    try {
      text = readFileSync(join(dir, segmentName(n)), "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (line === "") continue;
      try {
        const entry = JSON.parse(line) as JournalEntry<T>;
        if (Number.isSafeInteger(entry.s) && Number.isFinite(entry.t) && entry.u) {
          // A correction that is no number is none: the round is judged by the clock as it is.
          const c = entry.c;
          if (c !== undefined && !(Number.isFinite(c) && Math.abs(c) <= MAX_OFFSET_S))
            delete entry.c;
          entries.push(entry);
          continue;
        }
      } catch {
        // counted below
      }
      unreadable++;
    }
  }
  entries.sort((a, b) => a.s - b.s);
  return { entries, segments, unreadable };
}

export class RoundJournal<T> {
  private segment: number;
  private nextSeq: number;
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;
  /** Highest sequence number written into each segment. */
  private readonly highest = new Map<number, number>();
  /** Bytes written into the current segment: a file found shorter was deleted under us. */
  private segmentBytes = 0;
  /** The segment a write is under way into, if any. */
  private writing: number | null = null;
  /** Bytes written into each segment not yet removed. */
  private readonly sizes = new Map<number, number>();
  /** Writes (each with its sync) since start: rounds per write shows the group commit at work. */
  private writeCount = 0;

  constructor(private readonly options: JournalOptions) {
    this.segment = options.segment;
    this.nextSeq = options.nextSeq;
  }

  /** Bytes in segments not yet removed: how much a replay at start would read. */
  get size(): number {
    let total = 0;
    for (const bytes of this.sizes.values()) total += bytes;
    return total;
  }

  get writes(): number {
    return this.writeCount;
  }

  /** Resolves with the entry's sequence number once it is durable; rejects with StorageError. */
  append(t: number, u: T, c?: number): Promise<number> {
    const seq = this.nextSeq++;
    const line = `${JSON.stringify({ s: seq, t, u, ...(c !== undefined && { c }) })}\n`;
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ line, seq, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /**
   * Starts a new segment for the appends to come and returns the number of the last one before
   * it: a snapshot holding every entry up to `highestThrough(n)` makes segments ≤ n obsolete.
   */
  rotate(): number {
    const through = this.segment;
    if (this.segmentBytes > 0) this.nextSegment();
    return through;
  }

  /** The highest sequence number written into segments ≤ n (−1 if none). */
  highestThrough(n: number): number {
    let max = -1;
    for (const [segment, seq] of this.highest) if (segment <= n) max = Math.max(max, seq);
    return max;
  }

  /**
   * Deletes segments ≤ n (a durable snapshot holds all they held); never the current one, nor
   * one being written.
   */
  removeThrough(n: number): void {
    for (const name of safeList(this.options.dir)) {
      const number = Number(SEGMENT_PATTERN.exec(name)?.[1] ?? Number.NaN);
      if (number <= n && number !== this.segment && number !== this.writing) {
        rmSync(join(this.options.dir, name), { force: true });
        this.highest.delete(number);
        this.sizes.delete(number);
      }
    }
  }

  /** Waits for the writes under way. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private nextSegment(): void {
    this.segment++;
    this.segmentBytes = 0;
  }

  private async flush(): Promise<void> {
    // Appends of the same event-loop turn share the first write.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const path = join(this.options.dir, segmentName(this.segment));
      try {
        const text = batch.map((p) => p.line).join("");
        const written = await this.write(text);
        const last = (batch[batch.length - 1] as Pending).seq;
        for (const p of batch) p.resolve(p.seq);
        this.highest.set(written, Math.max(this.highest.get(written) ?? -1, last));
      } catch (err) {
        // Never append after a failure: a torn line can only end its segment.
        this.nextSegment();
        const error = err instanceof StorageError ? err : new StorageError(path, err);
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = null;
  }

  /**
   * Appends to the current segment and syncs. The file is opened for each write, not held
   * open: a segment (or the whole directory) deleted under the proxy is then noticed — the file
   * is missing or shorter than what was written — and a filesystem remounted read-only refuses
   * the next write at once.
   */
  private async write(text: string): Promise<number> {
    const { dir, sync } = this.options;
    const opened = this.segment;
    let path = join(dir, segmentName(opened));
    let handle = await open(path, "a", 0o600).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
      return null;
    });
    let lost = false;
    if (handle === null) {
      // The directory is gone: whatever it held is gone with it.
      lost = this.segmentBytes > 0 || this.writeCount > 0;
      await mkdir(dir, { recursive: true });
    } else if ((await handle.stat()).size < this.segmentBytes) {
      lost = true;
      await handle.close();
      rmSync(path, { force: true });
      handle = null;
    }
    if (lost) this.nextSegment();
    await this.options.beforeWrite(lost);
    if (handle !== null && this.segment !== opened) {
      // A snapshot rotated the journal meanwhile: the round goes to the new segment.
      await handle.close();
      handle = null;
    }
    const created = handle === null || this.segmentBytes === 0;
    // A snapshot may rotate the journal while this write runs: the bytes and rounds belong to
    // the segment they went to, which is not retired under the write.
    const written = this.segment;
    this.writing = written;
    try {
      if (handle === null) {
        path = join(dir, segmentName(written));
        handle = await open(path, "a", 0o600);
      }
      try {
        await handle.writeFile(text, "utf8");
        if (sync) await handle.datasync();
      } finally {
        await handle.close().catch(() => undefined);
      }
      // A new file's directory entry must be durable before anything in it is confirmed.
      if (created && sync) await syncPath(dir);
    } finally {
      this.writing = null;
    }
    const bytes = Buffer.byteLength(text);
    if (this.segment === written) this.segmentBytes += bytes;
    this.sizes.set(written, (this.sizes.get(written) ?? 0) + bytes);
    this.writeCount++;
    return written;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
