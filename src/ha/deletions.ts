/**
 * Recognises Home Assistant deleting one of our devices: it clears the device's retained
 * discovery config (an empty message on `<prefix>/device/<object id>/config`).
 */
import { ecuDeviceId, inverterDeviceId } from "./topics.js";

const ECU_PREFIX = ecuDeviceId("");
const INVERTER_PREFIX = inverterDeviceId("");

export function deletedDevice(
  topic: string,
  payload: string,
  discoveryPrefix: string,
): { kind: "ecu" | "inverter"; id: string } | undefined {
  if (payload !== "") return undefined;
  const head = `${discoveryPrefix}/device/`;
  if (!topic.startsWith(head) || !topic.endsWith("/config")) return undefined;
  const objectId = topic.slice(head.length, -"/config".length);
  if (objectId.startsWith(ECU_PREFIX))
    return { kind: "ecu", id: objectId.slice(ECU_PREFIX.length) };
  if (objectId.startsWith(INVERTER_PREFIX)) {
    return { kind: "inverter", id: objectId.slice(INVERTER_PREFIX.length) };
  }
  return undefined;
}
