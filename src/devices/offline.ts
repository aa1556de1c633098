/**
 * When an ECU and its inverters count as offline: no live round for `offline_after_minutes`
 * (freshness.ts decides what is live). Then the ECU and its inverters show 0 W and OFF — night
 * time, mostly: the ECU stops uploading when the panels stop producing. Energy counters and
 * problem flags stay as they are.
 */
import { markSilent } from "./applyUpload.js";
import { type DevicesState, invertersOf } from "./model.js";

/** Marks ECUs whose last live round is `offlineMs` old offline; returns their ids. */
export function expireOffline(state: DevicesState, nowMs: number, offlineMs: number): string[] {
  const expired: string[] = [];
  for (const ecu of Object.values(state.ecus)) {
    if (!ecu.online || ecu.lastUploadAt === null || nowMs - ecu.lastUploadAt < offlineMs) continue;
    ecu.online = false;
    ecu.powerW = 0;
    ecu.invertersOnline = 0;
    for (const inv of invertersOf(state, ecu.id)) markSilent(inv);
    expired.push(ecu.id);
  }
  return expired;
}
