/**
 * What the bridge remembers about each device between uploads and across restarts. This is the
 * persisted shape (state.json), so changing a field needs a `version` bump and a migration.
 */

export interface ChannelState {
  powerW: number | null;
  dcVoltageV: number | null;
  dcCurrentA: number | null;
}

export interface EcuRecord {
  id: string;
  /** Decoded ECU model; null until the first upload (contacts alone do not carry it). */
  model: string | null;
  /** Clock ms of the last request of any kind (the "last contact" sensor). */
  lastContactAt: number | null;
  /** Clock ms when the newest upload arrived; drives the offline timer. */
  lastUploadAt: number | null;
  /** ECU local timestamp of the newest round seen (`YYYY-MM-DDTHH:mm:ss`). */
  lastRoundTimestamp: string | null;
  /** False once no upload arrived for `offline_after_minutes`. */
  online: boolean;
  powerW: number | null;
  lifetimeEnergyKWh: number | null;
  invertersOnline: number | null;
  /** Today's energy in mWh (integers, so sums of 3-decimal Wh values stay exact). */
  energyTodayMWh: number;
  maxPowerTodayW: number | null;
  /** ECU timestamps of today's rounds already added to the counters (re-sent rounds repeat). */
  countedRounds: string[];
}

export interface InverterRecord {
  uid: string;
  ecuId: string;
  model: string;
  typeCode: string;
  lastSeenAt: number;
  online: boolean;
  acVoltageV: number | null;
  frequencyHz: number | null;
  temperatureC: number | null;
  channels: ChannelState[];
  energyTodayMWh: number;
}

export interface BridgeState {
  version: 1;
  /** Local date (`YYYY-MM-DD`, configured zone) the "today" counters belong to. */
  day: string | null;
  ecus: Record<string, EcuRecord>;
  inverters: Record<string, InverterRecord>;
}

export function emptyState(): BridgeState {
  return { version: 1, day: null, ecus: {}, inverters: {} };
}

export function newEcuRecord(id: string): EcuRecord {
  return {
    id,
    model: null,
    lastContactAt: null,
    lastUploadAt: null,
    lastRoundTimestamp: null,
    online: false,
    powerW: null,
    lifetimeEnergyKWh: null,
    invertersOnline: null,
    energyTodayMWh: 0,
    maxPowerTodayW: null,
    countedRounds: [],
  };
}
