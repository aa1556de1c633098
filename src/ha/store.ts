/**
 * Keeps `BridgeState` in `<dataDir>/state.json`. Writes are atomic (temp file, rename, then
 * fsync of file and directory), so a kill -9 leaves either the old or the new file; a file that a
 * power cut left damaged is detected at the next start. A
 * file that cannot be read back is moved aside and the bridge starts fresh: losing one day's
 * counters is better than not starting.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { type BridgeState, emptyState } from "./model.js";

const FILE_NAME = "state.json";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);
const isStrOrNull = (v: unknown): boolean => v === null || typeof v === "string";

function isEcuRecord(v: unknown): boolean {
  return (
    isObject(v) &&
    typeof v.id === "string" &&
    isStrOrNull(v.model) &&
    isNumOrNull(v.lastContactAt) &&
    isNumOrNull(v.lastUploadAt) &&
    isStrOrNull(v.lastRoundTimestamp) &&
    typeof v.online === "boolean" &&
    isNumOrNull(v.powerW) &&
    isNumOrNull(v.lifetimeEnergyKWh) &&
    isNumOrNull(v.invertersOnline) &&
    isNum(v.energyTodayMWh) &&
    isNumOrNull(v.maxPowerTodayW) &&
    Array.isArray(v.countedRounds) &&
    v.countedRounds.every((r) => typeof r === "string")
  );
}

function isInverterRecord(v: unknown): boolean {
  return (
    isObject(v) &&
    typeof v.uid === "string" &&
    typeof v.ecuId === "string" &&
    typeof v.model === "string" &&
    typeof v.typeCode === "string" &&
    isNum(v.lastSeenAt) &&
    typeof v.online === "boolean" &&
    isNumOrNull(v.acVoltageV) &&
    isNumOrNull(v.frequencyHz) &&
    isNumOrNull(v.temperatureC) &&
    isNum(v.energyTodayMWh) &&
    Array.isArray(v.channels) &&
    v.channels.every(
      (c) =>
        isObject(c) &&
        isNumOrNull(c.powerW) &&
        isNumOrNull(c.dcVoltageV) &&
        isNumOrNull(c.dcCurrentA),
    )
  );
}

/** Checks the parsed file field by field; a half-written or hand-edited file fails here. */
export function isBridgeState(v: unknown): v is BridgeState {
  return (
    isObject(v) &&
    v.version === 1 &&
    isStrOrNull(v.day) &&
    isObject(v.ecus) &&
    Object.values(v.ecus).every(isEcuRecord) &&
    isObject(v.inverters) &&
    Object.values(v.inverters).every(isInverterRecord)
  );
}

export class StateStore {
  readonly path: string;
  private latest: BridgeState = emptyState();
  /** The write in progress; whether another must follow it; who waits for that next one. */
  private writing: Promise<void> | null = null;
  private queued = false;
  private waiting: {
    pick: (written: BridgeState) => unknown;
    resolve: (value: unknown) => void;
  }[] = [];
  private syncing: Promise<void> | null = null;
  private syncAgain = false;

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.path = join(dataDir, FILE_NAME);
  }

  /** Reads the state; a missing file gives an empty state, a corrupt one is moved aside. */
  load(): BridgeState {
    mkdirSync(this.dataDir, { recursive: true });
    if (!existsSync(this.path)) return emptyState();
    let problem: string;
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.path, "utf8"));
      if (isBridgeState(parsed)) return parsed;
      problem = "unexpected content";
    } catch (err) {
      problem = (err as Error).message;
    }
    const aside = `${this.path}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, "-")}`;
    try {
      renameSync(this.path, aside);
    } catch (err) {
      this.logger.error({ err, path: this.path }, "cannot move corrupt state file aside");
    }
    this.logger.warn(
      { path: this.path, movedTo: aside, problem },
      "state file is corrupt; starting with empty counters",
    );
    return emptyState();
  }

  /**
   * Saves the state; resolves, with `pick` of what was written, once a write that began after
   * this call — so one that contains this state — has replaced the file (temp file + rename:
   * atomic, and safe against the process dying from then on, since the data is in the kernel).
   * Callers publish only after that, so Home Assistant never sees a counter that a crash could
   * take back. Writes are asynchronous and coalesced (a burst of uploads costs one or two
   * writes, off the ECUs' answer path); the fsyncs that make the file survive a power cut follow
   * in the background. `pick` runs when the write takes its text, and copies only what its caller
   * will publish (a copy of the whole state per upload was most of a write's cost); a pick that
   * throws is logged and gives undefined, and the write goes on.
   */
  save<T = BridgeState>(
    state: BridgeState,
    pick: (written: BridgeState) => T = (written) => structuredClone(written) as T,
  ): Promise<T | undefined> {
    this.latest = state;
    return new Promise<T | undefined>((resolve) => {
      this.waiting.push({ pick, resolve: resolve as (value: unknown) => void });
      if (this.writing) this.queued = true;
      else this.write();
    });
  }

  /** No write is running or queued: the file holds every state saved so far. */
  get idle(): boolean {
    return this.writing === null && !this.queued;
  }

  /** Resolves once everything saved so far is written and fsynced. */
  async flush(): Promise<void> {
    while (this.writing || this.syncing) {
      await Promise.all([this.writing, this.syncing]);
    }
  }

  /**
   * Takes the newest state's text and the waiting callers' picks now, writes and renames
   * asynchronously, then resolves those callers: what they publish is exactly what the file
   * holds, even when newer uploads changed the live state meanwhile. A failed write still
   * resolves (logged): Home Assistant keeps getting values when the disk is full or read-only.
   */
  private write(): void {
    const waiters = this.waiting;
    this.waiting = [];
    const text = JSON.stringify(this.latest);
    const picked = waiters.map((w) => {
      try {
        return w.pick(this.latest);
      } catch (err) {
        this.logger.error({ err }, "cannot copy the saved state for publishing");
        return undefined;
      }
    });
    const tmp = `${this.path}.tmp-${process.pid}`;
    this.writing = (async () => {
      try {
        await writeFile(tmp, text, { encoding: "utf8", mode: 0o600 });
        await rename(tmp, this.path);
        this.scheduleSync();
      } catch (err) {
        this.logger.error({ err, path: this.path }, "cannot write state file");
      }
    })().then(() => {
      this.writing = null;
      for (const [i, w] of waiters.entries()) w.resolve(picked[i]);
      if (this.queued) {
        this.queued = false;
        this.write();
      }
    });
  }

  private scheduleSync(): void {
    this.syncAgain = true;
    if (this.syncing) return;
    this.syncing = (async () => {
      while (this.syncAgain) {
        this.syncAgain = false;
        try {
          await this.syncToDisk();
        } catch (err) {
          this.logger.error({ err, path: this.path }, "cannot sync state file");
        }
      }
    })().finally(() => {
      this.syncing = null;
    });
  }

  private async syncToDisk(): Promise<void> {
    const file = await open(this.path, "r");
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    // The rename itself is only durable once the directory entry is flushed.
    const dir = await open(this.dataDir, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
