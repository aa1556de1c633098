import { decodeAps13, decodeStatusReport } from "./control.js";
import { decodeEcu11 } from "./firmware.js";
import { declaredLength, type LengthFramed, lengthFieldText } from "./frameLength.js";
import { APS_HEADER, FILL_UP_COMMAND, slice, UPLOAD_COMMAND } from "./header.js";
import type { DecodeError, DecodeResult, UnknownMessage } from "./types.js";
import { decodeUpload } from "./upload.js";

const ECU_ID = /^[0-9]{12}$/;

/** `{"EID":"<ecu id>",}` — the JSON form of the nightly sync request (FW-RTJ, §5). */
const JSON_SYNC = /^\{\s*"EID"\s*:\s*"([0-9]{12})"\s*,?\s*\}$/;

function unknown(kind: string, text: string, ecuId?: string): UnknownMessage {
  const message: UnknownMessage = { type: "unknown", kind, raw: text };
  if (ecuId !== undefined) message.ecuId = ecuId;
  return message;
}

/** A frame's length field must name exactly the bytes the framer delivered. */
function checkLength(text: string, kind: LengthFramed): DecodeError | undefined {
  const declared = declaredLength(text, kind);
  if (declared === text.length) return undefined;
  const field = lengthFieldText(text, kind);
  return {
    type: "error",
    code: "bad_length",
    detail:
      declared === undefined
        ? `${kind} length field '${field}' is not a usable length`
        : `${kind} length field says ${declared} bytes, the frame has ${text.length}`,
  };
}

function decodeAps(text: string): DecodeResult {
  const version = slice(text, APS_HEADER.version);
  const lengthError = checkLength(text, "APS");
  if (lengthError) return lengthError;
  // The nightly sync request has no command/sequence: APS13AAA22<ecu id> (§5).
  if (version === "13" && text.length === 22) {
    const ecuId = text.slice(10, 22);
    if (!ECU_ID.test(ecuId))
      return { type: "error", code: "bad_ecu_id", detail: `ECU id '${ecuId}' is not 12 digits` };
    return { type: "sync_request", ecuId, form: "aps13" };
  }
  if (text.length < 30) {
    return {
      type: "error",
      code: "truncated",
      detail: `APS${version} frame of ${text.length} bytes has no ECU id`,
    };
  }
  const ecuId = slice(text, APS_HEADER.ecuId);
  if (!ECU_ID.test(ecuId))
    return { type: "error", code: "bad_ecu_id", detail: `ECU id '${ecuId}' is not 12 digits` };
  const command = text.slice(10, 18);
  switch (version) {
    case "18":
      if (command === UPLOAD_COMMAND || command === FILL_UP_COMMAND) {
        return decodeUpload(text, ecuId, command);
      }
      return unknown(`APS18/${command}`, text, ecuId);
    case "13":
      return decodeAps13(text, ecuId);
    case "15":
      if (slice(text, APS_HEADER.command) === "A123") return decodeStatusReport(text, ecuId);
      return unknown(`APS15/${slice(text, APS_HEADER.command)}`, text, ecuId);
    default:
      // APS14/APS16 and anything newer: the layout is not public (§10 H1, §13) — keep it raw.
      return unknown(`APS${version}`, text, ecuId);
  }
}

/**
 * Decodes one complete frame (as delimited by the framer, without the trailing LF).
 * Pure: no I/O, no clock. Never throws — malformed input yields a typed DecodeError.
 */
export function decodeFrame(frame: Buffer): DecodeResult {
  try {
    const text = frame.toString("latin1");
    if (text.startsWith("APS")) return decodeAps(text);
    if (text.startsWith("ECU")) return checkLength(text, "ECU11") ?? decodeEcu11(frame);
    if (text.startsWith("{")) {
      const match = JSON_SYNC.exec(text);
      if (match?.[1]) return { type: "sync_request", ecuId: match[1], form: "json" };
      return unknown("json", text);
    }
    return {
      type: "error",
      code: "bad_magic",
      detail: `frame starts with '${text.slice(0, 5)}', not APS, ECU or {`,
    };
  } catch (err) {
    // Defence in depth: a bug here must cost one frame, not the connection or the process.
    return {
      type: "error",
      code: "unknown_type",
      detail: `decoder failed: ${(err as Error).message}`,
    };
  }
}
