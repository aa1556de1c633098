/**
 * How one upload meets the device state, in two steps the registry keeps apart: `precheck`
 * decides, without changing anything, whether the round must be stored before it is confirmed;
 * `applyRound` applies it (a new day first, then the ECU's tracking, then applyUpload.ts). Pure:
 * the caller passes the state, the time and the settings, and does the logging and the telling.
 */
import type { UploadMessage } from "../protocol/types.js";
import { ecuTimestampToEpoch, localDate } from "../zoneTime.js";
import { applyUpload, type DeviceLimits, type UploadOutcome } from "./applyUpload.js";
import { correctionOf, newClock, observe } from "./clock.js";
import { alreadyCounted } from "./counters.js";
import { roundFreshness } from "./freshness.js";
import { rollover } from "./midnight.js";
import type { DevicesState } from "./model.js";
import { roundSeconds } from "./roundTime.js";
import { trackedEcu } from "./tracked.js";

export interface IntakeSettings {
  zone: string;
  offlineAfterMs: number;
  limits: DeviceLimits;
  weakRatio: number;
}

/**
 * `untracked`: max_ecus leaves no room for this ECU (answered, not kept); `ahead`: dated too far
 * ahead of the clock (refused); `seen`: counted before, hence durable already; `new`: to be
 * stored, then applied.
 */
export type Precheck = "untracked" | "ahead" | "seen" | "new";

export interface PrecheckResult {
  check: Precheck;
  /**
   * The clock correction (s, clock.ts) the round is judged with, its own evidence included:
   * apply (and journal) it with this one, so the round is applied as it was judged — then and
   * on replay — whatever other rounds teach the clock meanwhile.
   */
  correctionS: number;
}

export function precheck(
  state: DevicesState,
  upload: UploadMessage,
  nowMs: number,
  settings: IntakeSettings,
): PrecheckResult {
  const ecu = state.ecus[upload.ecu.id];
  if (!ecu) {
    const ecus = Object.values(state.ecus);
    const room = ecus.length < settings.limits.maxEcus || ecus.some((e) => e.model === null);
    if (!room) return { check: "untracked", correctionS: 0 };
  }
  const roundS = roundSeconds(upload.ecu.timestamp);
  const stampMs = ecuTimestampToEpoch(upload.ecu.timestamp, settings.zone);
  const correction = correctionOf(observe(ecu?.clock ?? newClock(), roundS, stampMs, nowMs));
  const freshness = roundFreshness({
    roundAtMs: stampMs - correction * 1000,
    nowMs,
    liveWindowMs: settings.offlineAfterMs,
    roundS,
    lastLiveS: ecu?.lastRoundTimestamp ? roundSeconds(ecu.lastRoundTimestamp) : null,
  });
  if (freshness === "ahead") return { check: "ahead", correctionS: correction };
  const seen = ecu !== undefined && alreadyCounted(ecu, roundS);
  return { check: seen ? "seen" : "new", correctionS: correction };
}

export interface AppliedRound {
  /** Undefined when the ECU is not tracked (max_ecus). */
  outcome?: UploadOutcome;
  /** The round's arrival began a new local day: every "today" counter was reset first. */
  newDay: boolean;
  /** The ECU had no record before this round. */
  newEcu: boolean;
}

/**
 * `correctionS`: the one precheck judged the round with (journal entries before the clock was
 * learned have none: the ECU's clock as it stands then).
 */
export function applyRound(
  state: DevicesState,
  upload: UploadMessage,
  nowMs: number,
  settings: IntakeSettings,
  correctionS?: number,
): AppliedRound {
  const today = localDate(nowMs, settings.zone);
  const newDay = rollover(state, today);
  const id = upload.ecu.id;
  const newEcu = state.ecus[id] === undefined;
  if (newEcu && !trackedEcu(state, id, true, settings.limits.maxEcus)) return { newDay, newEcu };
  const outcome = applyUpload(state, upload, {
    nowMs,
    today,
    zone: settings.zone,
    stampMs: ecuTimestampToEpoch(upload.ecu.timestamp, settings.zone),
    ...(correctionS !== undefined && { correctionS }),
    liveWindowMs: settings.offlineAfterMs,
    maxInvertersPerEcu: settings.limits.maxInvertersPerEcu,
    weakRatio: settings.weakRatio,
  });
  return { outcome, newDay, newEcu };
}
