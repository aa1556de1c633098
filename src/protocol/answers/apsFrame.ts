import { lengthField, lengthPrefix } from "../frameLength.js";

/** An APS frame whose length field counts its exact bytes (the ECU compares it with strlen, §7). */
export function apsFrame(version: string, pad: "A" | "0", rest: string): Buffer {
  const length = lengthPrefix("APS") + rest.length;
  return Buffer.from(`APS${version}${lengthField(length, "APS", pad)}${rest}`, "latin1");
}
