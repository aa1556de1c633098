/**
 * The rule for the ECU's own lifetime-energy counter (header field, 0.1 kWh steps). Home
 * Assistant reads a `total_increasing` value that goes down as a meter reset and keeps every
 * spike forever, so one reading is never enough to move it further than the inverters could:
 *
 * - A reading that rises by no more than the ECU's inverters could produce since the accepted
 *   one (their bound power × the time between the two rounds, at least 10 minutes, plus 0.2 kWh
 *   for the field's rounding) is taken.
 * - Any other reading — lower (a replaced board, a factory reset) or far higher (a corrupted or
 *   made-up value) — is held back. When CONFIRM_ROUNDS consecutive live rounds agree with it
 *   (each rising from the previous one within the same bound), the counter follows it, with a
 *   log line: a real reset is followed about 10 minutes late, a single outlier is never shown.
 */
import type { EcuDevice } from "./model.js";

export const CONFIRM_ROUNDS = 3;
/** The field has 0.1 kWh steps; two readings may each be off by one step. */
const ROUNDING_KWH = 0.2;
const MIN_SPAN_S = 600;

export type LifetimeVerdict =
  | { taken: true; change?: "reset" | "jump"; fromKWh?: number }
  | { taken: false; heldKWh: number; rounds: number; acceptedKWh: number; allowedKWh: number };

function allowance(fromS: number | null, toS: number, maxPowerW: number): number {
  const spanS = Math.max(fromS === null ? 0 : toS - fromS, MIN_SPAN_S);
  return (maxPowerW * spanS) / 3600 / 1000 + ROUNDING_KWH;
}

function follows(prevKWh: number, prevS: number | null, kWh: number, s: number, maxW: number) {
  const delta = kWh - prevKWh;
  return delta >= -ROUNDING_KWH && delta <= allowance(prevS, s, maxW);
}

/**
 * Applies one live round's lifetime reading to the ECU record. `roundS` is the round's
 * ECU-local seconds, `maxPowerW` what the ECU's inverters can deliver together.
 */
export function applyLifetime(
  ecu: EcuDevice,
  kWh: number,
  roundS: number,
  maxPowerW: number,
): LifetimeVerdict {
  const accepted = ecu.lifetimeEnergyKWh;
  if (accepted === null || follows(accepted, ecu.lifetimeAt, kWh, roundS, maxPowerW)) {
    // A reading one rounding step below the accepted one is the same energy: never go down.
    ecu.lifetimeEnergyKWh = accepted === null ? kWh : Math.max(accepted, kWh);
    ecu.lifetimeAt = roundS;
    ecu.lifetimeCandidate = null;
    return { taken: true };
  }
  const candidate = ecu.lifetimeCandidate;
  if (candidate && follows(candidate.kWh, candidate.at, kWh, roundS, maxPowerW)) {
    candidate.rounds += 1;
    candidate.kWh = Math.max(candidate.kWh, kWh);
    candidate.at = roundS;
  } else {
    ecu.lifetimeCandidate = { kWh, rounds: 1, at: roundS };
  }
  const held = ecu.lifetimeCandidate as NonNullable<EcuDevice["lifetimeCandidate"]>;
  if (held.rounds >= CONFIRM_ROUNDS) {
    ecu.lifetimeEnergyKWh = held.kWh;
    ecu.lifetimeAt = held.at;
    ecu.lifetimeCandidate = null;
    return { taken: true, change: held.kWh < accepted ? "reset" : "jump", fromKWh: accepted };
  }
  return {
    taken: false,
    heldKWh: kWh,
    rounds: held.rounds,
    acceptedKWh: accepted,
    allowedKWh: allowance(ecu.lifetimeAt, roundS, maxPowerW),
  };
}
