import type { DecodeError, FirmwareQueryMessage, UnknownMessage } from "./types.js";

/**
 * `ECU11` file-transfer frames of the ECU's WiFi-module OTA path (port 9220), protocol.md §8:
 * `ECU` + `11` + 4-digit total length + 4-digit frame type + … + `END`. Binary-safe.
 * Only the download query (frame type 0001, file command 0001) is understood; frame type 0004
 * (seen in 2024, absent from the 2018 source, §13 U7) and the rest are kept raw.
 */
export const ECU11_PREFIX_LENGTH = 9;

const PATH_OFFSET = 17;
const PATH_WIDTH = 60;

export function decodeEcu11(frame: Buffer): FirmwareQueryMessage | UnknownMessage | DecodeError {
  const text = frame.toString("latin1");
  const frameType = text.slice(9, 13);
  const fileCommand = text.slice(13, 17);
  if (frameType === "0001" && fileCommand === "0001") {
    if (text.slice(PATH_OFFSET + PATH_WIDTH, PATH_OFFSET + PATH_WIDTH + 3) !== "END") {
      return {
        type: "error",
        code: "missing_end",
        detail: "ECU11 file query does not end with END after its 60-byte path",
      };
    }
    const path = text.slice(PATH_OFFSET, PATH_OFFSET + PATH_WIDTH).replace(/\0+$/, "");
    return { type: "firmware_query", path };
  }
  const ecuId =
    frameType === "0004" && /^[0-9]{12}$/.test(text.slice(13, 25)) ? text.slice(13, 25) : undefined;
  const unknown: UnknownMessage = {
    type: "unknown",
    kind: `ECU11/${frameType}/${frameType === "0004" ? text.slice(25, 29) : fileCommand}`,
    raw: text,
  };
  if (ecuId) unknown.ecuId = ecuId;
  return unknown;
}
