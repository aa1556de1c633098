/**
 * Where the device state lives on disk: the journal of rounds (journal.ts: each round durable
 * before it is confirmed) and the snapshot `state.json` (the whole state, now and then, naming
 * the last journal entry it holds). At start the snapshot is read and the rounds after it are
 * applied again; then a fresh snapshot makes the old segments obsolete.
 *
 * When to snapshot: when the journal since the last snapshot is as large as that snapshot (at
 * least MIN_SNAPSHOT_BYTES) — so a round is written at most about twice, whatever the number of
 * devices kept — or when the owner has other changes to save (removed devices, a new day), and at
 * stop. Storage faults are reported by storageHealth.ts and retried with its backoff; a deleted
 * data directory is made again and the state written into it from memory.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AtomicFile, removeStaleTemps } from "../atomicFile.js";
import type { Logger } from "../log.js";
import type { UploadMessage } from "../protocol/types.js";
import { type JournalEntry, RoundJournal, readJournal, StorageError } from "./journal.js";
import type { DevicesState } from "./model.js";
import { loadState, STATE_FILE } from "./stateFile.js";
import { type StorageHealth, StorageMonitor } from "./storageHealth.js";

/** A snapshot is due once the journal since the last one reaches its size, and at least this. */
export const MIN_SNAPSHOT_BYTES = 64 * 1024;
/**
 * While snapshots fail the journal grows; beyond this it takes no more rounds (they stay
 * unconfirmed at the ECU), so a replay at start stays bounded.
 */
export const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;

export interface StoreOptions {
  dataDir: string;
  logger: Logger;
  now: () => number;
  /** fsync/fdatasync before confirming (off only for the benchmark's comparison). */
  sync?: boolean;
  /** For tests of the limit. */
  maxJournalBytes?: number;
}

/** The state for a snapshot, and what to do once that snapshot is written (or failed). */
export type SnapshotRender = () => { state: DevicesState; done: (durable: boolean) => void };

export interface LoadedStore {
  state: DevicesState;
  /** Files of an earlier version were read: the first snapshot completes the migration. */
  migratedFrom?: string;
  /** Rounds after the snapshot: apply them to `state` in order, each with its arrival time. */
  replay: JournalEntry<UploadMessage>[];
  unreadable: number;
}

export class DeviceStore {
  readonly monitor: StorageMonitor;
  private readonly file: AtomicFile;
  private readonly log: Logger;
  private journal: RoundJournal<UploadMessage> | null = null;
  private render: SnapshotRender | null = null;
  private lastApplied = 0;
  private lastSnapshotBytes = 0;
  /** Snapshots requested and not finished: a due snapshot is not requested twice. */
  private snapshotting = 0;
  private lastSnapshotAt = 0;
  private snapshotRetry: NodeJS.Timeout | null = null;

  constructor(private readonly options: StoreOptions) {
    this.log = options.logger;
    const path = join(options.dataDir, STATE_FILE);
    // Retries and "failing since" are real time, whatever clock the rounds are judged by.
    this.monitor = new StorageMonitor(this.log, options.dataDir, Date.now);
    this.file = new AtomicFile(path, {
      onError: (err) => this.monitor.failed("snapshot", path, err),
      onWritten: () => this.monitor.succeeded("snapshot"),
      mode: 0o600,
    });
  }

  get health(): StorageHealth {
    return this.monitor.health;
  }

  /** Real time since the last durable snapshot (Infinity before the first). */
  get snapshotAgeMs(): number {
    return this.lastSnapshotAt === 0 ? Number.POSITIVE_INFINITY : Date.now() - this.lastSnapshotAt;
  }

  /** No snapshot is being written or waiting. */
  get idle(): boolean {
    return this.file.idle;
  }

  /**
   * Reads the snapshot and the journal's rounds after it (to be applied again, in order, with
   * their arrival times), then opens the journal for new rounds; `render` gives the state for
   * later snapshots. Call once, at start.
   */
  load(render: SnapshotRender): LoadedStore {
    const { dataDir } = this.options;
    const stale = removeStaleTemps(dataDir);
    if (stale.length > 0) {
      this.log.info({ files: stale }, "removed temporary files of an interrupted write");
    }
    const loaded = loadState(dataDir, this.log, this.options.now());
    const read = readJournal<UploadMessage>(dataDir);
    const replay = read.entries.filter((e) => e.s > loaded.journalSeq);
    if (read.unreadable > 0) {
      this.log.warn(
        { lines: read.unreadable },
        "journal lines cut short by a crash were left out (those rounds were never confirmed)",
      );
    }
    const highest = read.entries.reduce((max, e) => Math.max(max, e.s), loaded.journalSeq);
    this.lastApplied = highest;
    this.render = render;
    this.journal = new RoundJournal<UploadMessage>({
      dir: dataDir,
      segment: (read.segments[read.segments.length - 1] ?? 0) + 1,
      nextSeq: highest + 1,
      sync: this.options.sync ?? true,
      beforeWrite: (lost) => this.beforeWrite(lost),
    });
    return {
      state: loaded.state,
      ...(loaded.migratedFrom ? { migratedFrom: loaded.migratedFrom } : {}),
      replay,
      unreadable: read.unreadable,
    };
  }

  /** Applies the rounds `load` found after the snapshot; returns how many were applied. */
  replay(entries: JournalEntry<UploadMessage>[], apply: (e: JournalEntry<UploadMessage>) => void) {
    let applied = 0;
    for (const entry of entries) {
      try {
        apply(entry);
        applied++;
      } catch (err) {
        this.log.warn({ err, seq: entry.s }, "a journal entry could not be applied; skipped");
      }
    }
    if (applied > 0) {
      this.log.info(
        { rounds: applied },
        "rounds after the last snapshot applied again from the journal",
      );
    }
    return applied;
  }

  /**
   * Makes one round durable, with the clock correction it was judged with; resolves with its
   * sequence number (hand it to `applied` once it is applied). Rejects with StorageError without
   * touching the disk while a failure is being backed off, or when the journal is full because
   * snapshots fail.
   */
  async commit(upload: UploadMessage, at: number, correctionS?: number): Promise<number> {
    const journal = this.journal;
    const path = this.options.dataDir;
    if (!journal) throw new StorageError(path, new Error("the store is not loaded"));
    if (journal.size > (this.options.maxJournalBytes ?? MAX_JOURNAL_BYTES)) {
      // Only a snapshot makes room: try one (coalesced), and refuse the round meanwhile.
      void this.snapshot();
      const err = Object.assign(new Error("the journal is full: snapshots fail"), {
        code: "EJOURNALFULL",
      });
      this.monitor.failed("journal", path, err, false);
      throw new StorageError(path, err);
    }
    const problem = this.health.problem;
    if (this.monitor.backingOff && problem) throw new StorageError(problem.path, problem);
    try {
      const seq = await journal.append(at, upload, correctionS);
      this.monitor.succeeded("journal");
      return seq;
    } catch (err) {
      const e = err instanceof StorageError ? err : new StorageError(path, err);
      this.monitor.failed("journal", e.path, e.cause);
      throw e;
    }
  }

  /** The round with this sequence number is applied to the state the snapshots render. */
  applied(seq: number): void {
    if (seq > this.lastApplied) this.lastApplied = seq;
    const journal = this.journal;
    const due = Math.max(MIN_SNAPSHOT_BYTES, this.lastSnapshotBytes);
    if (journal && this.snapshotting === 0 && journal.size >= due) void this.snapshot();
  }

  /**
   * Writes a snapshot (coalesced: a write already waiting takes this request along); resolves
   * true once it is durable. The render's `done` is told how its write ended.
   */
  snapshot(): Promise<boolean> {
    const render = this.render;
    const journal = this.journal;
    if (!render || !journal) return Promise.resolve(false);
    let ran: { through: number; seq: number; done: (durable: boolean) => void } | undefined;
    this.snapshotting++;
    return this.file
      .write(() => {
        const through = journal.rotate();
        const seq = this.lastApplied;
        const { state, done } = render();
        const text = JSON.stringify({ ...state, journalSeq: seq });
        this.lastSnapshotBytes = text.length;
        ran = { through, seq, done };
        return text;
      })
      .then((durable) => {
        if (durable) this.lastSnapshotAt = Date.now();
        if (ran) {
          if (durable && journal.highestThrough(ran.through) <= ran.seq) {
            journal.removeThrough(ran.through);
          }
          ran.done(durable);
        }
        this.snapshotting--;
        if (!durable) this.retrySnapshot();
        return durable;
      });
  }

  /** Everything written; the journal closed. */
  async close(): Promise<void> {
    if (this.snapshotRetry) clearTimeout(this.snapshotRetry);
    this.snapshotRetry = null;
    await this.file.flush();
    await this.journal?.close();
  }

  private retrySnapshot(): void {
    if (this.snapshotRetry) return;
    this.snapshotRetry = setTimeout(() => {
      this.snapshotRetry = null;
      void this.snapshot();
    }, 5000);
    this.snapshotRetry.unref();
  }

  /**
   * Before a journal write: a data directory deleted under the proxy (the segment vanished) or a
   * snapshot that vanished is written again from memory first, or the rounds in the journal
   * would be all a restart finds.
   */
  private async beforeWrite(lost: boolean): Promise<void> {
    const path = join(this.options.dataDir, STATE_FILE);
    if (!lost && existsSync(path)) return;
    if (lost) {
      this.log.error(
        { dir: this.options.dataDir },
        `the data directory ${this.options.dataDir} was deleted under the running proxy: made again, and the state written into it from memory`,
      );
    }
    const durable = await this.snapshot();
    if (!durable) throw new StorageError(path, this.health.problem ?? "snapshot failed");
  }
}
