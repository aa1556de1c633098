/**
 * The state file's numbers held to the bounds live rounds are held to (plausibility.ts): a
 * counter no installation could have reached — negative, non-finite, or more energy than its
 * inverters could make — means the file was damaged or edited, and Home Assistant keeps every
 * spike of a total_increasing counter for ever. stateFile.ts refuses such a file as corrupt.
 */
import { MAX_ROUNDS_PER_DAY } from "./counters.js";
import type { DevicesState, EcuDevice, InverterDevice } from "./model.js";
import { maxDayEnergyMWh, maxInverterPowerW } from "./plausibility.js";

const DAY_H = 24;
/** Lifetime counters: generous — a century of full power around the clock. */
const LIFETIME_H = 100 * 366 * DAY_H;
/** The ECU's lifetime field has 10 digits of 0.1 kWh (protocol.md §3.1). */
const ECU_LIFETIME_MAX_KWH = 999_999_999.9;

/** mWh an inverter (or one of its inputs) could make in `hours` at its bound power. */
function maxMWh(model: string, hours: number): number {
  return maxInverterPowerW(model) * hours * 1000;
}

/**
 * An ECU's figures, bounded as if all 999 inverters its header can count were of the largest
 * kind: which inverters belong to an ECU changes, and this must not refuse what rounds made.
 */
const ECU_MAX_W = 999 * maxInverterPowerW("unknown");

function within(value: number | null, max: number): boolean {
  return value === null || (Number.isFinite(value) && value >= 0 && value <= max);
}

function inverterProblem(inv: InverterDevice): string | undefined {
  const day = maxDayEnergyMWh(inv.model);
  const life = maxMWh(inv.model, LIFETIME_H);
  const power = maxInverterPowerW(inv.model);
  if (!within(inv.energyTodayMWh, day)) return `energyTodayMWh ${inv.energyTodayMWh}`;
  if (!within(inv.lifetimeMWh, life)) return `lifetimeMWh ${inv.lifetimeMWh}`;
  if (!within(inv.missingRounds, Number.MAX_SAFE_INTEGER))
    return `missingRounds ${inv.missingRounds}`;
  for (const [i, ch] of inv.channels.entries()) {
    const at = `channel ${i + 1}`;
    if (!within(ch.energyTodayMWh, day)) return `${at} energyTodayMWh ${ch.energyTodayMWh}`;
    if (!within(ch.lifetimeMWh, life)) return `${at} lifetimeMWh ${ch.lifetimeMWh}`;
    if (!within(ch.powerW, power)) return `${at} powerW ${ch.powerW}`;
    if (!ch.ratios.every((r) => within(r, Number.MAX_VALUE))) return `${at} ratios`;
  }
  return undefined;
}

function ecuProblem(ecu: EcuDevice): string | undefined {
  // The header's count has 3 digits (protocol.md §3.1).
  if (!within(ecu.invertersOnline, 999)) return `invertersOnline ${ecu.invertersOnline}`;
  for (const key of ["backlogRounds", "aheadRounds"] as const) {
    if (!within(ecu[key], Number.MAX_SAFE_INTEGER)) return `${key} ${ecu[key]}`;
  }
  if (!within(ecu.energyTodayMWh, ECU_MAX_W * DAY_H * 1000)) {
    return `energyTodayMWh ${ecu.energyTodayMWh}`;
  }
  if (!within(ecu.lifetimeEnergyKWh, ECU_LIFETIME_MAX_KWH)) {
    return `lifetimeEnergyKWh ${ecu.lifetimeEnergyKWh}`;
  }
  if (ecu.lifetimeCandidate && !within(ecu.lifetimeCandidate.kWh, ECU_LIFETIME_MAX_KWH)) {
    return `lifetimeCandidate ${ecu.lifetimeCandidate.kWh}`;
  }
  for (const key of ["powerW", "maxPowerTodayW", "maxPowerEverW"] as const) {
    if (!within(ecu[key], ECU_MAX_W)) return `${key} ${ecu[key]}`;
  }
  if (ecu.todayRounds.length > MAX_ROUNDS_PER_DAY) return `${ecu.todayRounds.length} todayRounds`;
  return undefined;
}

/** Where the state holds a number it cannot hold (`ecus.<id>.<field> <value>`), or undefined. */
export function impossibleCounter(state: DevicesState): string | undefined {
  for (const [uid, inv] of Object.entries(state.inverters)) {
    const problem = inverterProblem(inv);
    if (problem) return `inverters.${uid}: ${problem}`;
  }
  for (const [id, ecu] of Object.entries(state.ecus)) {
    const problem = ecuProblem(ecu);
    if (problem) return `ecus.${id}: ${problem}`;
  }
  return undefined;
}
