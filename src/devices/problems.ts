/**
 * Problem flags, judged inside each live round against the inverter's siblings on the same ECU,
 * so that night, dusk and clouds (which dim every panel alike) raise nothing:
 *
 * - missing: an inverter the ECU reported before is absent from MISSING_ROUNDS judged rounds in
 *   a row while its siblings produce;
 * - weak panel: a panel input's power stayed below `weakRatio` × the median of all the ECU's
 *   panel inputs in each of the last WEAK_ROUNDS judged rounds; a weak inverter is one whose
 *   inputs are all weak.
 *
 * A round is judged only when the median input produces at least JUDGE_MIN_W; other rounds
 * change nothing (a flag stays as it was overnight rather than flapping every evening).
 */
import type { Inverter } from "../protocol/types.js";
import type { InverterDevice } from "./model.js";

export const MISSING_ROUNDS = 3;
export const WEAK_ROUNDS = 6;
/** Median panel-input power below which a round says nothing about any single panel. */
export const JUDGE_MIN_W = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return 0;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The flags as bits (missing, weak, then each channel's weak), to tell a change cheaply. */
function flagsOf(dev: InverterDevice): number {
  let bits = (dev.missing ? 1 : 0) | (dev.weak ? 2 : 0);
  for (const [i, ch] of dev.channels.entries()) if (ch.weak) bits |= 4 << i;
  return bits;
}

/** Uids whose missing or weak flag changed. */
export function judgeProblems(
  siblings: readonly InverterDevice[],
  reported: ReadonlyMap<string, Inverter>,
  weakRatio: number,
): string[] {
  const powers: number[] = [];
  for (const inv of reported.values()) for (const ch of inv.channels) powers.push(ch.powerW);
  const mid = median(powers);
  const changed: string[] = [];
  if (mid < JUDGE_MIN_W) {
    // Not a round to judge by, but an inverter that reports is not missing.
    for (const dev of siblings) {
      if (!reported.has(dev.uid)) continue;
      dev.missingRounds = 0;
      if (dev.missing) {
        dev.missing = false;
        changed.push(dev.uid);
      }
    }
    return changed;
  }
  for (const dev of siblings) {
    const before = flagsOf(dev);
    const record = reported.get(dev.uid);
    if (!record) {
      dev.missingRounds += 1;
      dev.missing = dev.missingRounds >= MISSING_ROUNDS;
    } else {
      dev.missingRounds = 0;
      dev.missing = false;
      for (const [i, ch] of dev.channels.entries()) {
        const power = record.channels[i]?.powerW;
        if (power === undefined) continue;
        ch.ratios.push(power / mid);
        if (ch.ratios.length > WEAK_ROUNDS) ch.ratios.splice(0, ch.ratios.length - WEAK_ROUNDS);
        ch.weak =
          weakRatio > 0 && ch.ratios.length >= WEAK_ROUNDS && ch.ratios.every((r) => r < weakRatio);
      }
      dev.weak = dev.channels.length > 0 && dev.channels.every((c) => c.weak);
    }
    if (flagsOf(dev) !== before) changed.push(dev.uid);
  }
  return changed;
}
