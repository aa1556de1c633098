/**
 * Reads the state files of earlier versions into today's shape. Version 0.2.0 kept two: the
 * Home Assistant bridge's `state.json` (version 1: devices and today's counters) and the status
 * page's `status.json` (its own copy of the devices, the unknown kinds, today's chart).
 */
import { isObject, type Json } from "./json.js";
import type { DevicesState, EcuDevice, InverterDevice } from "./model.js";
import { newChannel, newEcu } from "./model.js";
import { roundDate, roundSeconds } from "./roundTime.js";

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/** Today's chart points per ECU from a 0.2.0 status.json, when it belongs to `day`. */
function chartOf(status: unknown, day: string | null): Map<string, Map<string, number>> {
  const chart = new Map<string, Map<string, number>>();
  if (!isObject(status) || !isObject(status.today) || status.today.day !== day) return chart;
  const ecus = status.today.ecus;
  if (!isObject(ecus)) return chart;
  for (const [id, rounds] of Object.entries(ecus)) {
    if (!Array.isArray(rounds)) continue;
    const points = new Map<string, number>();
    for (const r of rounds) {
      if (Array.isArray(r) && typeof r[0] === "string" && typeof r[1] === "number") {
        points.set(r[0], r[1]);
      }
    }
    chart.set(id, points);
  }
  return chart;
}

function unknownKindsOf(status: unknown): Map<string, string[]> {
  const kinds = new Map<string, string[]>();
  if (!isObject(status) || !Array.isArray(status.ecus)) return kinds;
  for (const e of status.ecus) {
    if (isObject(e) && typeof e.id === "string" && Array.isArray(e.unknownKinds)) {
      kinds.set(
        e.id,
        e.unknownKinds.filter((k): k is string => typeof k === "string").slice(0, 10),
      );
    }
  }
  return kinds;
}

function migrateEcu(
  v: Json,
  day: string | null,
  chart: Map<string, number> | undefined,
  kinds: string[],
): EcuDevice {
  const ecu = newEcu(String(v.id));
  ecu.model = str(v.model);
  ecu.lastContactAt = num(v.lastContactAt);
  ecu.lastUploadAt = num(v.lastUploadAt);
  const last = str(v.lastRoundTimestamp);
  ecu.lastRoundTimestamp = last !== null && TIMESTAMP.test(last) ? last : null;
  ecu.online = v.online === true;
  ecu.powerW = num(v.powerW);
  ecu.lifetimeEnergyKWh = num(v.lifetimeEnergyKWh);
  ecu.lifetimeAt = ecu.lifetimeEnergyKWh !== null && last !== null ? roundSeconds(last) : null;
  ecu.invertersOnline = num(v.invertersOnline);
  ecu.energyTodayMWh = num(v.energyTodayMWh) ?? 0;
  ecu.maxPowerTodayW = num(v.maxPowerTodayW);
  ecu.maxPowerEverW = ecu.maxPowerTodayW;
  const counted = Array.isArray(v.countedRounds)
    ? v.countedRounds.filter((r): r is string => typeof r === "string" && TIMESTAMP.test(r))
    : [];
  counted.sort();
  ecu.countedRounds = counted.map(roundSeconds);
  ecu.todayRounds = counted
    .filter((ts) => roundDate(ts) === day)
    .map((ts): [string, number | null] => [ts, chart?.get(ts) ?? null]);
  ecu.unknownKinds = kinds;
  return ecu;
}

function migrateInverter(v: Json): InverterDevice | undefined {
  if (typeof v.uid !== "string" || typeof v.ecuId !== "string" || !Array.isArray(v.channels)) {
    return undefined;
  }
  const today = num(v.energyTodayMWh) ?? 0;
  return {
    uid: v.uid,
    ecuId: v.ecuId,
    model: str(v.model) ?? "unknown",
    typeCode: str(v.typeCode) ?? "",
    lastSeenAt: num(v.lastSeenAt) ?? 0,
    online: v.online === true,
    acVoltageV: num(v.acVoltageV),
    phaseVoltagesV: [],
    frequencyHz: num(v.frequencyHz),
    temperatureC: num(v.temperatureC),
    channels: v.channels.map((c) => ({
      ...newChannel(),
      powerW: isObject(c) ? num(c.powerW) : null,
      dcVoltageV: isObject(c) ? num(c.dcVoltageV) : null,
      dcCurrentA: isObject(c) ? num(c.dcCurrentA) : null,
    })),
    // 0.2.0 counted today's energy per inverter only: the inverter's lifetime starts there,
    // each panel input's at zero (DOCS.md says so).
    energyTodayMWh: today,
    lifetimeMWh: today,
    missingRounds: 0,
    missing: false,
    weak: false,
  };
}

/**
 * A version-1 bridge state (and the 0.2.0 status page file, when there is one) as version 2;
 * undefined when `bridge` is not a version-1 state.
 */
export function migrateFromV1(bridge: unknown, status: unknown): DevicesState | undefined {
  if (!isObject(bridge) || bridge.version !== 1) return undefined;
  if (!isObject(bridge.ecus) || !isObject(bridge.inverters)) return undefined;
  const day = str(bridge.day);
  const chart = chartOf(status, day);
  const kinds = unknownKindsOf(status);
  const state: DevicesState = { version: 2, day, ecus: {}, inverters: {} };
  for (const v of Object.values(bridge.ecus)) {
    if (!isObject(v) || typeof v.id !== "string") continue;
    state.ecus[v.id] = migrateEcu(v, day, chart.get(v.id), kinds.get(v.id) ?? []);
  }
  for (const v of Object.values(bridge.inverters)) {
    const inv = isObject(v) ? migrateInverter(v) : undefined;
    if (inv && state.ecus[inv.ecuId]) state.inverters[inv.uid] = inv;
  }
  return state;
}
