import { type Span, slice } from "./header.js";
import type { DecodeError, FirmwareQueryMessage, UnknownMessage } from "./types.js";

/**
 * `ECU11` file-transfer frames of the ECU's WiFi-module OTA path (port 9220), protocol.md §8:
 * `ECU` + `11` + 4-digit total length + 4-digit frame type + … + `END`. Binary-safe.
 * Only the download query (frame type 0001, file command 0001) is understood; frame type 0004
 * (seen in 2024, absent from the 2018 source, §13 U7) and the rest are kept raw.
 */
export const ECU11_HEADER = {
  magic: { offset: 0, width: 5 },
  length: { offset: 5, width: 4 },
  frameType: { offset: 9, width: 4 },
  /** In requests (frame type 0001): `0001` download, `0002` delete, `0003` upload. */
  fileCommand: { offset: 13, width: 4 },
  /** 60-byte NUL-padded path of a request, then `END`. */
  path: { offset: 17, width: 60 },
} as const satisfies Record<string, Span>;

/** Bytes before the length field is complete. */
export const ECU11_PREFIX_LENGTH = 9;

export function decodeEcu11(frame: Buffer): FirmwareQueryMessage | UnknownMessage | DecodeError {
  const text = frame.toString("latin1");
  const frameType = slice(text, ECU11_HEADER.frameType);
  const fileCommand = slice(text, ECU11_HEADER.fileCommand);
  if (frameType === "0001" && fileCommand === "0001") {
    const pathEnd = ECU11_HEADER.path.offset + ECU11_HEADER.path.width;
    if (text.slice(pathEnd, pathEnd + 3) !== "END") {
      return {
        type: "error",
        code: "missing_end",
        detail: "ECU11 file query does not end with END after its 60-byte path",
      };
    }
    const path = slice(text, ECU11_HEADER.path).replace(/\0+$/, "");
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
