/**
 * What the proxy knows about each ECU and inverter: the one persisted shape (`state.json`,
 * version 2). Home Assistant and the status page both read these records; neither keeps its
 * own copy. Changing a field needs a version bump and a step in migrate.ts; a field added with
 * a default that stateFile.ts fills in for older files (`clock`) needs neither.
 */
import { type EcuClock, newClock } from "./clock.js";

export interface ChannelDevice {
  powerW: number | null;
  dcVoltageV: number | null;
  dcCurrentA: number | null;
  /** Today's energy of this panel input, mWh (integers: sums of 3-decimal Wh stay exact). */
  energyTodayMWh: number;
  /** Energy of this panel input since the proxy first saw it, mWh; never goes down. */
  lifetimeMWh: number;
  /** This input's power ÷ its siblings' median in the last judged rounds (problems.ts). */
  ratios: number[];
  /** Producing far below its siblings (problems.ts). */
  weak: boolean;
}

/** A lifetime reading that did not fit the accepted one, waiting for rounds that confirm it. */
export interface LifetimeCandidate {
  kWh: number;
  /** Consecutive live rounds that agreed with it. */
  rounds: number;
  /** ECU-local seconds (roundTime.ts) of the last of them. */
  at: number;
}

export interface EcuDevice {
  id: string;
  /** Decoded ECU model; null until the first upload (contacts alone do not carry it). */
  model: string | null;
  /** Clock ms of the last request of any kind naming this ECU. */
  lastContactAt: number | null;
  /** Clock ms when the newest live round arrived; drives the offline timer. */
  lastUploadAt: number | null;
  /** ECU local timestamp of the newest live round (`YYYY-MM-DDTHH:mm:ss`). */
  lastRoundTimestamp: string | null;
  /** False once no live round arrived for `offline_after_minutes`. */
  online: boolean;
  powerW: number | null;
  lifetimeEnergyKWh: number | null;
  /** ECU-local seconds of the round whose lifetime reading was accepted last. */
  lifetimeAt: number | null;
  lifetimeCandidate: LifetimeCandidate | null;
  invertersOnline: number | null;
  energyTodayMWh: number;
  maxPowerTodayW: number | null;
  /** Highest plausible power of any live round since the proxy first saw this ECU. */
  maxPowerEverW: number | null;
  /**
   * Today's rounds for the chart, sorted: [wall-clock time (the ECU's own stamp unless its clock
   * is corrected, clock.ts), power W or null]; each counted once.
   */
  todayRounds: Array<[string, number | null]>;
  /**
   * ECU-local seconds of rounds already added to the lifetime counters, newest
   * COUNTED_WINDOW_S only (counters.ts); sorted ascending.
   */
  countedRounds: number[];
  /** Rounds received that were too old to be live (resent after an outage): counted, not shown. */
  backlogRounds: number;
  /** Rounds refused because their time lies too far ahead of the wall clock. */
  aheadRounds: number;
  /** Kinds of message from this ECU the proxy could not decode (e.g. `APS16`): worth a report. */
  unknownKinds: string[];
  /** Its clock's offset, learned from how its rounds arrive (clock.ts). */
  clock: EcuClock;
}

export interface InverterDevice {
  uid: string;
  ecuId: string;
  model: string;
  typeCode: string;
  /** Clock ms of the last round naming it (stale-device removal). */
  lastSeenAt: number;
  /** Reported in the ECU's newest live round. */
  online: boolean;
  acVoltageV: number | null;
  /** 3-phase inverters: every phase's voltage (L1 first); empty otherwise. */
  phaseVoltagesV: Array<number | null>;
  frequencyHz: number | null;
  temperatureC: number | null;
  channels: ChannelDevice[];
  energyTodayMWh: number;
  lifetimeMWh: number;
  /** Live rounds in a row without this inverter while its siblings produced. */
  missingRounds: number;
  /** Missing from the ECU's uploads while its siblings report (problems.ts). */
  missing: boolean;
  /** Producing far below its siblings (problems.ts). */
  weak: boolean;
}

export interface DevicesState {
  version: 2;
  /** Local date (`YYYY-MM-DD`, configured zone) the "today" counters belong to. */
  day: string | null;
  ecus: Record<string, EcuDevice>;
  inverters: Record<string, InverterDevice>;
}

export function emptyState(): DevicesState {
  return { version: 2, day: null, ecus: {}, inverters: {} };
}

export function newEcu(id: string): EcuDevice {
  return {
    id,
    model: null,
    lastContactAt: null,
    lastUploadAt: null,
    lastRoundTimestamp: null,
    online: false,
    powerW: null,
    lifetimeEnergyKWh: null,
    lifetimeAt: null,
    lifetimeCandidate: null,
    invertersOnline: null,
    energyTodayMWh: 0,
    maxPowerTodayW: null,
    maxPowerEverW: null,
    todayRounds: [],
    countedRounds: [],
    backlogRounds: 0,
    aheadRounds: 0,
    unknownKinds: [],
    clock: newClock(),
  };
}

export function newChannel(): ChannelDevice {
  return {
    powerW: null,
    dcVoltageV: null,
    dcCurrentA: null,
    energyTodayMWh: 0,
    lifetimeMWh: 0,
    ratios: [],
    weak: false,
  };
}

export function newInverter(
  uid: string,
  ecuId: string,
  model: string,
  typeCode: string,
  channelCount: number,
  nowMs: number,
): InverterDevice {
  return {
    uid,
    ecuId,
    model,
    typeCode,
    lastSeenAt: nowMs,
    online: false,
    acVoltageV: null,
    phaseVoltagesV: [],
    frequencyHz: null,
    temperatureC: null,
    channels: Array.from({ length: channelCount }, newChannel),
    energyTodayMWh: 0,
    lifetimeMWh: 0,
    missingRounds: 0,
    missing: false,
    weak: false,
  };
}

/**
 * Which inverters belong to which ECU, kept beside the state (not in it: it is not persisted)
 * because every round and every publish asks, and a scan of all inverters made a round's cost
 * grow with the devices kept (2× at 16 ECUs × 100 inverters). Made anew after
 * `inverterMembershipChanged`.
 */
const byEcu = new WeakMap<DevicesState, Map<string, InverterDevice[]>>();

/** The inverters of one ECU (state order). Read it; do not change the list. */
export function invertersOf(state: DevicesState, ecuId: string): readonly InverterDevice[] {
  let index = byEcu.get(state);
  if (!index) {
    index = new Map();
    for (const inv of Object.values(state.inverters)) {
      const list = index.get(inv.ecuId);
      if (list) list.push(inv);
      else index.set(inv.ecuId, [inv]);
    }
    byEcu.set(state, index);
  }
  return index.get(ecuId) ?? [];
}

/** An inverter was added, removed, or moved to another ECU: `invertersOf` must look again. */
export function inverterMembershipChanged(state: DevicesState): void {
  byEcu.delete(state);
}
