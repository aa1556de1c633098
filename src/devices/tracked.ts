/**
 * Which ECUs the proxy tracks (option max_ecus): an ECU beyond the limit is answered but neither
 * kept nor published.
 */
import { type DevicesState, type EcuDevice, newEcu } from "./model.js";

/**
 * The record of an ECU, made when there is room; undefined when max_ecus is reached. An upload
 * may take the place of an ECU known only from polls (no model), so that made-up polls cannot
 * lock a real ECU out.
 */
export function trackedEcu(
  state: DevicesState,
  id: string,
  uploading: boolean,
  maxEcus: number,
): EcuDevice | undefined {
  const known = state.ecus[id];
  if (known) return known;
  const ecus = Object.values(state.ecus);
  if (ecus.length >= maxEcus) {
    const spare = uploading ? ecus.find((e) => e.model === null) : undefined;
    if (!spare) return undefined;
    delete state.ecus[spare.id];
  }
  const ecu = newEcu(id);
  state.ecus[id] = ecu;
  return ecu;
}
