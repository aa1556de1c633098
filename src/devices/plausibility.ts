/**
 * What an inverter can physically produce, so that a reading no installation could make never
 * reaches Home Assistant (what reaches the Energy dashboard stays there). The bounds are
 * generous on purpose: they stop made-up and corrupted values, not real ones.
 */
import { ratedPowerW } from "../protocol/models.js";
import type { Inverter } from "../protocol/types.js";

/**
 * An inverter whose rating is unknown (a family the decoder cannot name, an optimizer) is
 * bounded as the largest one APsystems makes (QT2, 2000 W).
 */
const UNKNOWN_RATED_W = 2000;

/**
 * DC input may exceed the AC rating (panels are often oversized, and the inverter clips after
 * conversion losses): a reading up to this many times the rating is still believed.
 */
export const DC_HEADROOM = 1.5;

/** Highest DC power one record may report (all its channels together). */
export function maxInverterPowerW(model: string): number {
  return (ratedPowerW(model) ?? UNKNOWN_RATED_W) * DC_HEADROOM;
}

/**
 * Why an inverter record's values cannot be believed, or undefined when they can: negative or
 * non-finite values, or power beyond what its model can deliver.
 */
export function implausibleRecord(inv: Inverter): string | undefined {
  let total = 0;
  for (const ch of inv.channels) {
    for (const v of [ch.powerW, ch.dcVoltageV, ch.dcCurrentA, ch.energyWh]) {
      if (!Number.isFinite(v) || v < 0) return `negative or invalid channel value ${v}`;
    }
    total += ch.powerW;
  }
  const max = maxInverterPowerW(inv.model);
  if (total > max) return `power ${total} W is beyond a ${inv.model}'s ${max} W`;
  return undefined;
}

/**
 * Highest energy an inverter's "today" counter may hold, mWh: a whole day at its bound power.
 * Rounds are bounded one by one (maxRoundEnergyWh, at least 10 minutes each); this bounds their
 * sum, so a sender of rounds seconds apart cannot pile up more than a day could hold — and the
 * state file check (stateBounds.ts) uses the same bound, so it never refuses a state the live
 * rounds could make.
 */
export function maxDayEnergyMWh(model: string): number {
  return maxInverterPowerW(model) * 24 * 1000;
}

/**
 * Highest energy a record may report for one round, Wh: its bound power over the time since
 * the ECU's previous round (at least 10 minutes: a first round or one after a reboot covers an
 * unknown span; at most a day).
 */
export function maxRoundEnergyWh(model: string, gapS: number | null): number {
  const hours = Math.min(Math.max(gapS ?? 0, 600), 86_400) / 3600;
  return maxInverterPowerW(model) * hours;
}

/** Highest ECU power its inverters can deliver (the header power's plausibility bound). */
export function maxEcuPowerW(models: readonly string[], invertersOnline: number): number {
  const known = models.reduce((sum, m) => sum + maxInverterPowerW(m), 0);
  // An ECU may report more inverters online than records decoded (unknown type codes).
  const unknown = Math.max(invertersOnline - models.length, 0) * maxInverterPowerW("unknown");
  return known + unknown;
}
