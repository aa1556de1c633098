/**
 * Energy counters the proxy owns, summed from each round's per-channel energy fields: per panel
 * input, per inverter and per ECU, today and lifetime. Each (ECU, round) is counted once,
 * whatever order rounds arrive in: rounds are remembered by their ECU time for COUNTED_WINDOW_S
 * behind the newest one; an older round cannot be told from one already counted and is left out.
 */
import type { EcuDevice, InverterDevice } from "./model.js";

/** How far back (ECU time) a resent round can still be counted: an outage of two days. */
export const COUNTED_WINDOW_S = 2 * 86_400;
/**
 * A day has 288 five-minute rounds; this leaves room for ECUs that upload every minute while
 * bounding what a sender of fake timestamps can make the proxy hold (and write to disk).
 */
export const MAX_ROUNDS_PER_DAY = 1500;

export type CountVerdict = "counted" | "duplicate" | "too_old" | "day_full";

function insertionIndex<T>(sorted: T[], key: (item: T) => string | number, value: string | number) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(sorted[mid] as T) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The round was counted already (a resend): nothing to add. */
export function alreadyCounted(ecu: EcuDevice, roundS: number): boolean {
  const counted = ecu.countedRounds;
  return counted[insertionIndex(counted, (s) => s, roundS)] === roundS;
}

/**
 * Claims a round for counting. On `counted` the round is recorded (and today's list gains it
 * when it is dated today); `gapS` is the time since the ECU's previous counted round (null for
 * the first), which bounds the energy a round can hold (plausibility.ts).
 */
export function claimRound(
  ecu: EcuDevice,
  timestamp: string,
  roundS: number,
  powerW: number | null,
  isToday: boolean,
): { verdict: CountVerdict; gapS: number | null } {
  const counted = ecu.countedRounds;
  const newest = counted.length > 0 ? (counted[counted.length - 1] as number) : null;
  if (newest !== null && roundS < newest - COUNTED_WINDOW_S)
    return { verdict: "too_old", gapS: null };
  const at = insertionIndex(counted, (s) => s, roundS);
  if (counted[at] === roundS) return { verdict: "duplicate", gapS: null };
  if (isToday && ecu.todayRounds.length >= MAX_ROUNDS_PER_DAY) {
    return { verdict: "day_full", gapS: null };
  }
  const previous = at > 0 ? (counted[at - 1] as number) : null;
  counted.splice(at, 0, roundS);
  const newestNow = counted[counted.length - 1] as number;
  let drop = 0;
  while (drop < counted.length && (counted[drop] as number) < newestNow - COUNTED_WINDOW_S) drop++;
  if (drop > 0) counted.splice(0, drop);
  if (isToday) {
    const rounds = ecu.todayRounds;
    rounds.splice(
      insertionIndex(rounds, (r) => r[0], timestamp),
      0,
      [timestamp, powerW],
    );
  }
  return { verdict: "counted", gapS: previous === null ? null : roundS - previous };
}

/** Adds one inverter's round energy (mWh per channel) to its counters and the ECU's. */
export function addEnergy(
  ecu: EcuDevice,
  inv: InverterDevice,
  channelMWh: readonly number[],
  isToday: boolean,
): void {
  for (const [i, mwh] of channelMWh.entries()) {
    const ch = inv.channels[i];
    if (!ch) continue;
    ch.lifetimeMWh += mwh;
    inv.lifetimeMWh += mwh;
    if (isToday) {
      ch.energyTodayMWh += mwh;
      inv.energyTodayMWh += mwh;
      ecu.energyTodayMWh += mwh;
    }
  }
}

/** Starts a new day's counters. */
export function resetToday(ecus: Iterable<EcuDevice>, inverters: Iterable<InverterDevice>): void {
  for (const ecu of ecus) {
    ecu.energyTodayMWh = 0;
    ecu.maxPowerTodayW = null;
    ecu.todayRounds = [];
  }
  for (const inv of inverters) {
    inv.energyTodayMWh = 0;
    for (const ch of inv.channels) ch.energyTodayMWh = 0;
  }
}
