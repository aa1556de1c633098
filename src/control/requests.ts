import type { ControlEntry } from "./queue.js";
import type { ControlDevices } from "./service.js";

/** Which setting of which device a command from Home Assistant is for. */
export type ControlRequest =
  | { target: "inverter"; uid: string; setting: "on" | "power_limit"; payload: string }
  | { target: "ecu"; ecuId: string; setting: "on"; payload: string };

/**
 * A request from Home Assistant checked before anything is queued: a known device, `ON`/`OFF`
 * exactly, a whole number of W within the range. What fails never reaches the ECU.
 */
export function checkRequest(
  req: ControlRequest,
  devices: ControlDevices,
  range: (uid: string) => { min: number; max: number; source: "ecu" | "rating" },
):
  | { ok: true; entry: Pick<ControlEntry, "ecuId" | "uid" | "setting" | "value" | "command"> }
  | { ok: false; error: string; ecuId?: string } {
  if (req.target === "ecu") {
    if (devices.inverterUids(req.ecuId).length === 0) {
      return { ok: false, error: `ECU ${req.ecuId} is not known (no upload yet)` };
    }
    const on = onOff(req.payload);
    if (on === undefined)
      return {
        ok: false,
        error: `"${req.payload.slice(0, 20)}" is not ON or OFF`,
        ecuId: req.ecuId,
      };
    const command = { kind: "switch_all", on } as const;
    return {
      ok: true,
      entry: { ecuId: req.ecuId, uid: null, setting: "on", value: on, command },
    };
  }
  const inverter = devices.inverter(req.uid);
  if (!inverter) return { ok: false, error: `inverter ${req.uid} is not known` };
  const { ecuId } = inverter;
  if (req.setting === "on") {
    const on = onOff(req.payload);
    if (on === undefined)
      return { ok: false, error: `"${req.payload.slice(0, 20)}" is not ON or OFF`, ecuId };
    const command = { kind: "switch", inverters: [{ uid: req.uid, on }] } as const;
    return { ok: true, entry: { ecuId, uid: req.uid, setting: "on", value: on, command } };
  }
  const watts = /^\s*[0-9]{1,6}(\.0*)?\s*$/.test(req.payload)
    ? Number.parseFloat(req.payload)
    : Number.NaN;
  const { min, max, source } = range(req.uid);
  if (!Number.isInteger(watts)) {
    return {
      ok: false,
      error: `power limit "${req.payload.slice(0, 20)}" is not a whole number of W`,
      ecuId,
    };
  }
  if (watts < min || watts > max) {
    const from =
      source === "ecu"
        ? "the range the ECU reported"
        : "the model's rating, until the ECU reports its range";
    return {
      ok: false,
      error: `power limit ${watts} W is outside ${min}..${max} W (${from}): not sent`,
      ecuId,
    };
  }
  const command = { kind: "max_power", inverters: [{ uid: req.uid, watts }] } as const;
  return {
    ok: true,
    entry: { ecuId, uid: req.uid, setting: "power_limit", value: watts, command },
  };
}

function onOff(payload: string): boolean | undefined {
  if (payload === "ON") return true;
  if (payload === "OFF") return false;
  return undefined;
}
