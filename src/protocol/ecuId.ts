import type { DecodeResult } from "./types.js";

/** The ECU id a decoded frame carries, when it carries one (errors and ECU11 queries do not). */
export function messageEcuId(message: DecodeResult): string | undefined {
  if (message.type === "upload") return message.ecu.id;
  if (message.type === "error" || message.type === "firmware_query") return undefined;
  return message.ecuId;
}
