/**
 * The one state file, `<dataDir>/state.json`: read and checked at start (migrating the files of
 * earlier versions), written through the one atomic writer (atomicFile.ts). A file that cannot
 * be read back is moved aside and the proxy starts fresh: losing counters beats not starting.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readIfExists } from "../atomicFile.js";
import type { Logger } from "../log.js";
import { readClock } from "./clock.js";
import { isObject } from "./json.js";
import { migrateFromV1 } from "./migrate.js";
import { type DevicesState, emptyState } from "./model.js";
import { impossibleCounter } from "./stateBounds.js";

export const STATE_FILE = "state.json";
/** The 0.2.0 status page's own copy of the devices; merged into state.json, then removed. */
export const LEGACY_STATUS_FILE = "status.json";

const isNum = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
const isNumOrNull = (v: unknown): boolean => v === null || isNum(v);
const isStrOrNull = (v: unknown): boolean => v === null || typeof v === "string";
const isNumList = (v: unknown): boolean => Array.isArray(v) && v.every(isNum);

function isEcu(v: unknown): boolean {
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
    isNumOrNull(v.lifetimeAt) &&
    (v.lifetimeCandidate === null ||
      (isObject(v.lifetimeCandidate) &&
        isNum(v.lifetimeCandidate.kWh) &&
        isNum(v.lifetimeCandidate.rounds) &&
        isNum(v.lifetimeCandidate.at))) &&
    isNumOrNull(v.invertersOnline) &&
    isNum(v.energyTodayMWh) &&
    isNumOrNull(v.maxPowerTodayW) &&
    isNumOrNull(v.maxPowerEverW) &&
    Array.isArray(v.todayRounds) &&
    v.todayRounds.every((r) => Array.isArray(r) && typeof r[0] === "string" && isNumOrNull(r[1])) &&
    isNumList(v.countedRounds) &&
    isNum(v.backlogRounds) &&
    isNum(v.aheadRounds) &&
    Array.isArray(v.unknownKinds) &&
    v.unknownKinds.every((k) => typeof k === "string")
  );
}

function isInverter(v: unknown): boolean {
  return (
    isObject(v) &&
    typeof v.uid === "string" &&
    typeof v.ecuId === "string" &&
    typeof v.model === "string" &&
    typeof v.typeCode === "string" &&
    isNum(v.lastSeenAt) &&
    typeof v.online === "boolean" &&
    isNumOrNull(v.acVoltageV) &&
    Array.isArray(v.phaseVoltagesV) &&
    v.phaseVoltagesV.every(isNumOrNull) &&
    isNumOrNull(v.frequencyHz) &&
    isNumOrNull(v.temperatureC) &&
    isNum(v.energyTodayMWh) &&
    isNum(v.lifetimeMWh) &&
    isNum(v.missingRounds) &&
    typeof v.missing === "boolean" &&
    typeof v.weak === "boolean" &&
    Array.isArray(v.channels) &&
    v.channels.every(
      (c) =>
        isObject(c) &&
        isNumOrNull(c.powerW) &&
        isNumOrNull(c.dcVoltageV) &&
        isNumOrNull(c.dcCurrentA) &&
        isNum(c.energyTodayMWh) &&
        isNum(c.lifetimeMWh) &&
        isNumList(c.ratios) &&
        typeof c.weak === "boolean",
    )
  );
}

/** Checks the parsed file field by field; a half-written or hand-edited file fails here. */
export function isDevicesState(v: unknown): v is DevicesState {
  return (
    isObject(v) &&
    v.version === 2 &&
    isStrOrNull(v.day) &&
    isObject(v.ecus) &&
    Object.values(v.ecus).every(isEcu) &&
    isObject(v.inverters) &&
    Object.values(v.inverters).every(isInverter)
  );
}

/** Where a parsed file holds a number JSON cannot mean as one (1e999 reads as Infinity). */
function nonFinitePath(value: unknown, at = ""): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : at || "(top)";
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = nonFinitePath(inner, at ? `${at}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface LoadedState {
  state: DevicesState;
  /** Files of an earlier version were read: save at once, then `finishMigration`. */
  migratedFrom?: string;
  /** The last journal entry (journal.ts) the file holds; 0 for files before the journal. */
  journalSeq: number;
}

/** The snapshot's own field beside the state: which journal entries it already holds. */
function journalSeqOf(parsed: unknown): number {
  const seq = isObject(parsed) ? parsed.journalSeq : undefined;
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Each ECU's clock evidence, defaulted where missing (older files) or out of bounds (logged). */
function readClocks(state: DevicesState, logger: Logger): void {
  for (const ecu of Object.values(state.ecus)) {
    const read = readClock((ecu as { clock?: unknown }).clock);
    ecu.clock = read.clock;
    if (read.problem) {
      logger.warn({ ecu: ecu.id }, `state file: ${read.problem} for ECU ${ecu.id}; learned again`);
    }
  }
}

/** Reads the state; a missing file gives an empty state, a corrupt one is moved aside. */
export function loadState(dataDir: string, logger: Logger, nowMs: number): LoadedState {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch {
    // A directory that cannot be made cannot be written either: the store reports it then.
  }
  const path = join(dataDir, STATE_FILE);
  if (!existsSync(path)) return { state: emptyState(), journalSeq: 0 };
  const text = readIfExists(path);
  const parsed = parse(text);
  let problem = text === undefined ? "unreadable" : "unexpected content";
  if (isDevicesState(parsed)) {
    const impossible = impossibleCounter(parsed);
    if (impossible === undefined) {
      const { journalSeq: _, ...state } = parsed as DevicesState & { journalSeq?: unknown };
      readClocks(state, logger);
      return { state, journalSeq: journalSeqOf(parsed) };
    }
    problem = `a value no installation can have (${impossible})`;
  } else {
    const odd = nonFinitePath(parsed);
    if (odd !== undefined) problem = `a number that is not finite (${odd})`;
    const status = parse(readIfExists(join(dataDir, LEGACY_STATUS_FILE)));
    const migrated = migrateFromV1(parsed, status);
    if (migrated) {
      logger.info({ path }, "state file of version 0.2 read; saved in the new format");
      return { state: migrated, migratedFrom: "0.2", journalSeq: 0 };
    }
  }
  const aside = `${path}.corrupt-${new Date(nowMs).toISOString().replace(/[:.]/g, "-")}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    logger.error({ err, path }, "cannot move corrupt state file aside");
  }
  logger.warn(
    { path, movedTo: aside, problem },
    `state file is corrupt (${problem}); moved aside, starting with empty counters`,
  );
  return { state: emptyState(), journalSeq: 0 };
}

/** After the migrated state was written: the 0.2.0 status page file has nothing left to give. */
export function finishMigration(dataDir: string): void {
  rmSync(join(dataDir, LEGACY_STATUS_FILE), { force: true });
}
