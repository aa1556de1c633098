/**
 * Applies decoded messages and the passing of time to the remembered device state. Pure
 * functions over `BridgeState` (no I/O, no clock): the bridge passes `nowMs` and "today".
 */
import type { Inverter, UploadMessage } from "../protocol/types.js";
import { type BridgeState, type ChannelState, type InverterRecord, newEcuRecord } from "./model.js";
import { ecuDate } from "./time.js";

export interface UploadOutcome {
  ecuId: string;
  /** The round is newer than any seen before, so live values were taken from it. */
  fresh: boolean;
  /** The round is dated today and was not counted before: it was added to the counters. */
  counted: boolean;
  /** Inverters whose record was created or changed. */
  inverters: string[];
  /** The ECU or one of its inverters was seen for the first time (new records to save). */
  created: boolean;
  /** Set when a fresh round carried a lifetime energy below the last accepted one. */
  rejectedLifetime: { lastKWh: number; receivedKWh: number } | null;
}

/** Records kept raw (unknown layout, bad digits) carry no measurements to publish. */
function usable(inverter: Inverter): boolean {
  return inverter.problem === undefined && inverter.raw === undefined;
}

/** Wh with three decimals (kWh × 1e6 on the wire) as integer mWh, so sums stay exact. */
function roundEnergyMWh(inverter: Inverter): number {
  return inverter.channels.reduce((sum, ch) => sum + Math.round(ch.energyWh * 1000), 0);
}

/** Returns true when the record had to be created. */
function ensureInverter(state: BridgeState, ecuId: string, inv: Inverter, nowMs: number): boolean {
  let rec = state.inverters[inv.uid];
  const created = rec === undefined;
  if (!rec) {
    rec = {
      uid: inv.uid,
      ecuId,
      model: inv.model,
      typeCode: inv.typeCode,
      lastSeenAt: nowMs,
      online: false,
      acVoltageV: null,
      frequencyHz: null,
      temperatureC: null,
      channels: inv.channels.map(() => ({ powerW: null, dcVoltageV: null, dcCurrentA: null })),
      energyTodayMWh: 0,
    };
    state.inverters[inv.uid] = rec;
  }
  rec.lastSeenAt = nowMs;
  return created;
}

function takeLiveValues(rec: InverterRecord, ecuId: string, inv: Inverter): void {
  rec.ecuId = ecuId;
  rec.model = inv.model;
  rec.typeCode = inv.typeCode;
  rec.online = true;
  rec.acVoltageV = inv.acVoltageV ?? null;
  rec.frequencyHz = inv.frequencyHz ?? null;
  rec.temperatureC = inv.temperatureC ?? null;
  rec.channels = inv.channels.map(
    (ch): ChannelState => ({
      powerW: ch.powerW,
      dcVoltageV: ch.dcVoltageV,
      dcCurrentA: ch.dcCurrentA,
    }),
  );
}

/** An inverter that stopped reporting: OFF, 0 W, and no stale measurements shown. */
function markSilent(rec: InverterRecord): void {
  rec.online = false;
  rec.acVoltageV = null;
  rec.frequencyHz = null;
  rec.temperatureC = null;
  rec.channels = rec.channels.map(() => ({ powerW: 0, dcVoltageV: null, dcCurrentA: null }));
}

/**
 * Takes one upload. Live values (power, voltages, online flags) follow only the newest round,
 * because ECUs re-send old rounds after outages and at night (protocol.md §5–6). Energy counters
 * take every round dated `today` exactly once, whatever order it arrives in.
 */
export function applyUpload(
  state: BridgeState,
  upload: UploadMessage,
  nowMs: number,
  today: string,
): UploadOutcome {
  const id = upload.ecu.id;
  let ecu = state.ecus[id];
  let created = ecu === undefined;
  if (!ecu) {
    ecu = newEcuRecord(id);
    state.ecus[id] = ecu;
  }
  ecu.model = upload.ecu.model;
  ecu.lastContactAt = nowMs;
  const ts = upload.ecu.timestamp;
  // Fixed-width `YYYY-MM-DDTHH:mm:ss` strings sort like the times they name.
  const fresh = ecu.lastRoundTimestamp === null || ts > ecu.lastRoundTimestamp;
  const inverters = upload.inverters.filter(usable);
  const touched = new Set<string>();
  let rejectedLifetime: UploadOutcome["rejectedLifetime"] = null;

  for (const inv of inverters) {
    if (ensureInverter(state, id, inv, nowMs)) created = true;
    touched.add(inv.uid);
  }

  if (fresh) {
    ecu.lastRoundTimestamp = ts;
    ecu.lastUploadAt = nowMs;
    ecu.online = true;
    ecu.powerW = upload.ecu.powerW;
    ecu.invertersOnline = upload.ecu.invertersOnline;
    const last = ecu.lifetimeEnergyKWh;
    if (last !== null && upload.ecu.lifetimeEnergyKWh < last) {
      rejectedLifetime = { lastKWh: last, receivedKWh: upload.ecu.lifetimeEnergyKWh };
    } else {
      ecu.lifetimeEnergyKWh = upload.ecu.lifetimeEnergyKWh;
    }
    for (const inv of inverters) {
      const rec = state.inverters[inv.uid];
      if (rec) takeLiveValues(rec, id, inv);
    }
    for (const rec of Object.values(state.inverters)) {
      if (rec.ecuId === id && !touched.has(rec.uid) && rec.online) {
        markSilent(rec);
        touched.add(rec.uid);
      }
    }
  }

  const counted = ecuDate(ts) === today && !ecu.countedRounds.includes(ts);
  if (counted) {
    ecu.countedRounds.push(ts);
    // Unknown power (an implausible header, protocol/headerPower.ts) leaves the maximum alone.
    if (upload.ecu.powerW !== null) {
      ecu.maxPowerTodayW = Math.max(ecu.maxPowerTodayW ?? 0, upload.ecu.powerW);
    }
    for (const inv of inverters) {
      const rec = state.inverters[inv.uid];
      if (!rec) continue;
      const mwh = roundEnergyMWh(inv);
      rec.energyTodayMWh += mwh;
      ecu.energyTodayMWh += mwh;
    }
  }
  return { ecuId: id, fresh, counted, inverters: [...touched], created, rejectedLifetime };
}

/** Any request naming an ECU counts as contact. Returns false for ECUs never seen uploading. */
export function recordContact(state: BridgeState, ecuId: string, nowMs: number): boolean {
  const ecu = state.ecus[ecuId];
  if (!ecu) return false;
  ecu.lastContactAt = nowMs;
  return true;
}

/** Starts a new day's counters when the local date changed. Returns true when it reset them. */
export function rollover(state: BridgeState, today: string): boolean {
  if (state.day === today) return false;
  const hadDay = state.day !== null;
  state.day = today;
  for (const ecu of Object.values(state.ecus)) {
    ecu.energyTodayMWh = 0;
    ecu.maxPowerTodayW = null;
    ecu.countedRounds = [];
  }
  for (const inv of Object.values(state.inverters)) inv.energyTodayMWh = 0;
  return hadDay;
}

/**
 * ECUs whose last upload is `offlineMs` old go offline: 0 W for the ECU and its inverters,
 * inverters OFF (night time: the ECU stops uploading when the panels stop producing).
 * Returns the ids of ECUs that just went offline.
 */
export function expireOffline(state: BridgeState, nowMs: number, offlineMs: number): string[] {
  const expired: string[] = [];
  for (const ecu of Object.values(state.ecus)) {
    if (!ecu.online || ecu.lastUploadAt === null || nowMs - ecu.lastUploadAt < offlineMs) continue;
    ecu.online = false;
    ecu.powerW = 0;
    ecu.invertersOnline = 0;
    for (const inv of Object.values(state.inverters)) {
      if (inv.ecuId !== ecu.id) continue;
      inv.online = false;
      inv.channels = inv.channels.map((ch) => ({ ...ch, powerW: 0 }));
    }
    expired.push(ecu.id);
  }
  return expired;
}

/** Devices not heard of for `staleMs` (ECUs: last contact; inverters: last round naming them). */
export function findStale(
  state: BridgeState,
  nowMs: number,
  staleMs: number,
): { ecus: string[]; inverters: string[] } {
  const ecus = Object.values(state.ecus)
    .filter((e) => e.lastContactAt !== null && nowMs - e.lastContactAt >= staleMs)
    .map((e) => e.id);
  const inverters = Object.values(state.inverters)
    .filter((i) => nowMs - i.lastSeenAt >= staleMs)
    .map((i) => i.uid);
  return { ecus, inverters };
}
