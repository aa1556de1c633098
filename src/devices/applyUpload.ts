/**
 * Applies one decoded upload to the device state: which values become live (freshness.ts),
 * which energy is counted (counters.ts), whether the ECU's lifetime reading is taken
 * (lifetime.ts), what is believable at all (plausibility.ts), and the problem flags
 * (problems.ts). Pure: no I/O, no clock (the caller passes the times); the registry logs what
 * the outcome reports (uploadLog.ts).
 */
import type { Inverter, UploadMessage } from "../protocol/types.js";
import { clockMoved, correctionOf, observe, wallTime } from "./clock.js";
import { addEnergy, alreadyCounted, type CountVerdict, claimRound } from "./counters.js";
import { type RoundFreshness, roundFreshness } from "./freshness.js";
import { applyLifetime, type LifetimeVerdict } from "./lifetime.js";
import {
  type DevicesState,
  type InverterDevice,
  inverterMembershipChanged,
  invertersOf,
  newChannel,
  newEcu,
  newInverter,
} from "./model.js";
import {
  implausibleRecord,
  maxDayEnergyMWh,
  maxEcuPowerW,
  maxRoundEnergyWh,
} from "./plausibility.js";
import { judgeProblems } from "./problems.js";
import { roundSeconds } from "./roundTime.js";

export interface DeviceLimits {
  /** Option max_ecus: ECUs beyond it are answered but not tracked or published. */
  maxEcus: number;
  /** Option max_inverters_per_ecu. */
  maxInvertersPerEcu: number;
}

export interface UploadContext {
  nowMs: number;
  /** Local date (configured zone) of `nowMs`. */
  today: string;
  /** The configured zone: the ECUs' clocks are read in it. */
  zone: string;
  /** The round's own stamp read in the configured zone (epoch ms; NaN when malformed). */
  stampMs: number;
  /** The clock correction (s) to judge it with (precheck's); default: the ECU's clock's own. */
  correctionS?: number;
  /** Option offline_after_minutes, in ms: older rounds are backlog. */
  liveWindowMs: number;
  /** Option max_inverters_per_ecu (which ECUs are tracked at all is the registry's call). */
  maxInvertersPerEcu: number;
  /** Option weak_panel_percent ÷ 100 (0: no weak-panel flags). */
  weakRatio: number;
}

export interface UploadOutcome {
  ecuId: string;
  freshness: RoundFreshness;
  /** The clock correction (s) the round was judged with (clock.ts). */
  correctionS: number;
  /** The round's evidence moved the ECU's learned clock offset (s; clockMoved). */
  clockLearned?: { fromS: number | null; toS: number | null };
  count: CountVerdict | "not_counted";
  /** The ECU or an inverter record was created. */
  created: boolean;
  /** Inverters whose record changed. */
  inverters: string[];
  /** Inverters left out because the ECU already has max_inverters_per_ecu. */
  overLimit: string[];
  /** Records whose values cannot be true, with the reason. */
  implausible: Array<{ uid: string; reason: string }>;
  /** Records whose round energy exceeds what they could produce in the round's time span. */
  energyRefused: Array<{ uid: string; wh: number; maxWh: number }>;
  /** The header power was beyond what the ECU's inverters can deliver (shown as unknown). */
  powerRefused?: { powerW: number; maxW: number };
  lifetime?: LifetimeVerdict;
}

/** Records kept raw (unknown layout, bad digits) carry no measurements. */
function decoded(inverter: Inverter): boolean {
  return inverter.problem === undefined && inverter.raw === undefined;
}

/** Finds or makes the inverter's record; undefined when the ECU is at its limit. */
function inverterRecord(
  state: DevicesState,
  ecuId: string,
  inv: Inverter,
  nowMs: number,
  maxInvertersPerEcu: number,
  ecuInverterCount: { n: number },
): { rec: InverterDevice; created: boolean } | undefined {
  let rec = state.inverters[inv.uid];
  const created = rec === undefined || rec.ecuId !== ecuId;
  if (created) {
    if (ecuInverterCount.n >= maxInvertersPerEcu) return undefined;
    ecuInverterCount.n += 1;
  }
  if (!rec) {
    rec = newInverter(inv.uid, ecuId, inv.model, inv.typeCode, inv.channels.length, nowMs);
    state.inverters[inv.uid] = rec;
  }
  rec.ecuId = ecuId;
  if (created) inverterMembershipChanged(state);
  rec.model = inv.model;
  rec.typeCode = inv.typeCode;
  rec.lastSeenAt = nowMs;
  while (rec.channels.length < inv.channels.length) rec.channels.push(newChannel());
  if (rec.channels.length > inv.channels.length) rec.channels.length = inv.channels.length;
  return { rec, created };
}

function takeLiveValues(rec: InverterDevice, inv: Inverter): void {
  rec.online = true;
  rec.acVoltageV = inv.acVoltageV ?? null;
  rec.phaseVoltagesV = inv.phaseVoltagesV ? [...inv.phaseVoltagesV] : [];
  rec.frequencyHz = inv.frequencyHz ?? null;
  rec.temperatureC = inv.temperatureC ?? null;
  for (const [i, ch] of inv.channels.entries()) {
    const dev = rec.channels[i];
    if (!dev) continue;
    dev.powerW = ch.powerW;
    dev.dcVoltageV = ch.dcVoltageV;
    dev.dcCurrentA = ch.dcCurrentA;
  }
}

/** An inverter that stopped reporting: OFF, 0 W, and no stale measurements shown. */
export function markSilent(rec: InverterDevice): void {
  rec.online = false;
  rec.acVoltageV = null;
  rec.phaseVoltagesV = rec.phaseVoltagesV.map(() => null);
  rec.frequencyHz = null;
  rec.temperatureC = null;
  for (const ch of rec.channels) {
    ch.powerW = 0;
    ch.dcVoltageV = null;
    ch.dcCurrentA = null;
  }
}

function plausiblePower(
  models: readonly string[],
  upload: UploadMessage,
  maxInvertersPerEcu: number,
): { powerW: number | null; refused?: { powerW: number; maxW: number } } {
  const powerW = upload.ecu.powerW;
  // The decoder found no plausible reading (its notes say why).
  if (powerW === null) return { powerW: null };
  const online = Math.min(upload.ecu.invertersOnline, maxInvertersPerEcu);
  const maxW = maxEcuPowerW(models, online);
  if (!Number.isFinite(powerW) || powerW < 0 || powerW > maxW) {
    return { powerW: null, refused: { powerW, maxW } };
  }
  return { powerW };
}

export function applyUpload(
  state: DevicesState,
  upload: UploadMessage,
  ctx: UploadContext,
): UploadOutcome {
  const id = upload.ecu.id;
  const outcome: UploadOutcome = {
    ecuId: id,
    freshness: "ahead",
    correctionS: 0,
    count: "not_counted",
    created: false,
    inverters: [],
    overLimit: [],
    implausible: [],
    energyRefused: [],
  };
  let ecu = state.ecus[id];
  if (!ecu) {
    ecu = newEcu(id);
    state.ecus[id] = ecu;
    outcome.created = true;
  }
  ecu.model = upload.ecu.model;
  ecu.lastContactAt = ctx.nowMs;

  const ts = upload.ecu.timestamp;
  const roundS = roundSeconds(ts);
  // Every round is evidence of the ECU's clock, refused ones too (clock.ts).
  const learned = ecu.clock.offsetS;
  ecu.clock = observe(ecu.clock, roundS, ctx.stampMs, ctx.nowMs);
  if (clockMoved(learned, ecu.clock.offsetS)) {
    outcome.clockLearned = { fromS: learned, toS: ecu.clock.offsetS };
  }
  outcome.correctionS = ctx.correctionS ?? correctionOf(ecu.clock);
  const wall = wallTime(ts, ctx.stampMs, outcome.correctionS, ctx.zone);
  outcome.freshness = roundFreshness({
    roundAtMs: wall.atMs,
    nowMs: ctx.nowMs,
    liveWindowMs: ctx.liveWindowMs,
    roundS,
    lastLiveS: ecu.lastRoundTimestamp === null ? null : roundSeconds(ecu.lastRoundTimestamp),
  });
  if (outcome.freshness === "ahead") {
    ecu.aheadRounds += 1;
    return outcome;
  }
  if (outcome.freshness !== "live" && alreadyCounted(ecu, roundS)) {
    // A resend (the ECU missed an answer): nothing new in it.
    outcome.count = "duplicate";
    return outcome;
  }

  // Which records to believe, and their device records (within the ECU's limit).
  const reported = new Map<string, Inverter>();
  const count = { n: invertersOf(state, id).length };
  const touched = new Set<string>();
  for (const inv of upload.inverters) {
    if (!decoded(inv)) continue;
    const reason = implausibleRecord(inv);
    if (reason !== undefined) {
      outcome.implausible.push({ uid: inv.uid, reason });
      continue;
    }
    const found = inverterRecord(state, id, inv, ctx.nowMs, ctx.maxInvertersPerEcu, count);
    if (!found) {
      outcome.overLimit.push(inv.uid);
      continue;
    }
    if (found.created) outcome.created = true;
    reported.set(inv.uid, inv);
    touched.add(inv.uid);
  }

  const siblings = invertersOf(state, id);
  const models = siblings.map((inv) => inv.model);
  const power = plausiblePower(models, upload, ctx.maxInvertersPerEcu);
  if (power.refused) outcome.powerRefused = power.refused;

  if (outcome.freshness === "live") {
    ecu.lastRoundTimestamp = ts;
    ecu.lastUploadAt = ctx.nowMs;
    ecu.online = true;
    ecu.powerW = power.powerW;
    ecu.invertersOnline = Math.min(upload.ecu.invertersOnline, ctx.maxInvertersPerEcu);
    const kWh = upload.ecu.lifetimeEnergyKWh;
    if (Number.isFinite(kWh) && kWh >= 0) {
      outcome.lifetime = applyLifetime(ecu, kWh, roundS, maxEcuPowerW(models, ecu.invertersOnline));
    }
    for (const rec of siblings) {
      const inv = reported.get(rec.uid);
      if (inv) takeLiveValues(rec, inv);
      else if (rec.online) {
        markSilent(rec);
        touched.add(rec.uid);
      }
    }
    for (const uid of judgeProblems(siblings, reported, ctx.weakRatio)) touched.add(uid);
  } else if (outcome.freshness === "backlog") {
    ecu.backlogRounds += 1;
  }

  // The day a round counts for is its wall-clock day: an ECU stamping 2001 still makes today.
  const isToday = wall.day === ctx.today;
  const claim = claimRound(ecu, wall.timestamp, roundS, power.powerW, isToday);
  outcome.count = claim.verdict;
  if (claim.verdict === "counted") {
    if (power.powerW !== null) {
      if (isToday) ecu.maxPowerTodayW = Math.max(ecu.maxPowerTodayW ?? 0, power.powerW);
      ecu.maxPowerEverW = Math.max(ecu.maxPowerEverW ?? 0, power.powerW);
    }
    for (const [uid, inv] of reported) {
      const rec = state.inverters[uid];
      if (!rec) continue;
      const channelMWh = inv.channels.map((ch) => Math.round(ch.energyWh * 1000));
      const wh = channelMWh.reduce((a, b) => a + b, 0) / 1000;
      const maxWh = Math.min(
        maxRoundEnergyWh(inv.model, claim.gapS),
        isToday
          ? (maxDayEnergyMWh(inv.model) - rec.energyTodayMWh) / 1000
          : Number.POSITIVE_INFINITY,
      );
      if (wh > maxWh) {
        outcome.energyRefused.push({ uid, wh, maxWh });
        continue;
      }
      addEnergy(ecu, rec, channelMWh, isToday);
    }
  }
  outcome.inverters = [...touched];
  return outcome;
}
