/**
 * Keeps `BridgeState` in `<dataDir>/state.json`. Writes are atomic (temp file, rename, then
 * fsync of file and directory), so a kill -9 or power cut leaves either the old or the new file. A
 * file that cannot be read back is moved aside and the bridge starts fresh: losing one day's
 * counters is better than not starting.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
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
  private pending = false;
  private writing: Promise<void> | null = null;

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
   * Writes this snapshot now (temp file + rename: atomic, and durable against the process dying
   * the moment this returns, since the data is in the kernel), then schedules the fsyncs that make
   * it survive a power cut; those are coalesced. Callers save before they publish, so Home
   * Assistant never sees a counter that a crash could take back.
   */
  save(state: BridgeState): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(state), { encoding: "utf8", mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (err) {
      this.logger.error({ err, path: this.path }, "cannot write state file");
      return;
    }
    this.pending = true;
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves once everything saved so far is fsynced. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        this.pending = false;
        try {
          await this.syncToDisk();
        } catch (err) {
          this.logger.error({ err, path: this.path }, "cannot sync state file");
        }
      }
    } finally {
      this.writing = null;
    }
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
