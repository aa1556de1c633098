/**
 * Devices not heard of for `remove_stale_devices_after_days` (ECUs: last contact of any kind;
 * inverters: last round naming them), and forgetting a device with everything it owns.
 */
import { type DevicesState, inverterMembershipChanged } from "./model.js";

export interface DeviceIds {
  ecus: string[];
  inverters: string[];
}

export function findStale(state: DevicesState, nowMs: number, staleMs: number): DeviceIds {
  const ecus = Object.values(state.ecus)
    .filter((e) => e.lastContactAt !== null && nowMs - e.lastContactAt >= staleMs)
    .map((e) => e.id);
  const inverters = Object.values(state.inverters)
    .filter((i) => nowMs - i.lastSeenAt >= staleMs || ecus.includes(i.ecuId))
    .map((i) => i.uid);
  return { ecus, inverters };
}

/** Removes the devices named; an ECU takes its inverters along. Returns what was removed. */
export function forget(state: DevicesState, ids: DeviceIds): DeviceIds {
  const removed: DeviceIds = { ecus: [], inverters: [] };
  for (const id of ids.ecus) {
    if (!state.ecus[id]) continue;
    delete state.ecus[id];
    removed.ecus.push(id);
    for (const inv of Object.values(state.inverters)) {
      if (inv.ecuId === id && !ids.inverters.includes(inv.uid)) ids.inverters.push(inv.uid);
    }
  }
  for (const uid of ids.inverters) {
    if (!state.inverters[uid]) continue;
    delete state.inverters[uid];
    removed.inverters.push(uid);
  }
  if (removed.inverters.length > 0) inverterMembershipChanged(state);
  return removed;
}
