/**
 * What the passing of time does to the device state, checked every 30 s by the registry: a new
 * local day resets the "today" counters, ECUs without a live round for offline_after_minutes go
 * offline, and devices not seen for remove_stale_devices_after_days are forgotten. Logs what it
 * did; the registry tells the readers.
 */
import type { Logger } from "../log.js";
import { localDate } from "../zoneTime.js";
import { rollover } from "./midnight.js";
import { type DevicesState, invertersOf } from "./model.js";
import { expireOffline } from "./offline.js";
import { type DeviceIds, findStale, forget } from "./stale.js";

export interface TimeSettings {
  zone: string;
  offlineAfterMs: number;
  /** 0: never remove. */
  staleAfterMs: number;
}

export interface TimePassed {
  newDay: boolean;
  /** ECUs gone offline, each with its inverters. */
  offline: Array<{ ecu: string; inverters: string[] }>;
  removed: DeviceIds;
}

/** `mayRemove`: removals must reach Home Assistant, so only while the broker is connected. */
export function passTime(
  state: DevicesState,
  nowMs: number,
  settings: TimeSettings,
  mayRemove: boolean,
  log: Logger,
): TimePassed {
  const previousDay = state.day;
  const newDay = rollover(state, localDate(nowMs, settings.zone));
  if (newDay)
    log.info({ from: previousDay, to: state.day }, "new day: energy-today counters reset");
  const offline = expireOffline(state, nowMs, settings.offlineAfterMs).map((ecu) => {
    log.info({ ecu, minutes: settings.offlineAfterMs / 60_000 }, "no upload: ECU offline");
    return { ecu, inverters: invertersOf(state, ecu).map((inv) => inv.uid) };
  });
  let removed: DeviceIds = { ecus: [], inverters: [] };
  if (settings.staleAfterMs > 0 && mayRemove) {
    removed = forget(state, findStale(state, nowMs, settings.staleAfterMs));
    if (removed.ecus.length + removed.inverters.length > 0) {
      log.info(removed, "removed devices not seen for remove_stale_devices_after_days");
    }
  }
  return { newDay, offline, removed };
}
