import type { Message } from "./types.js";

/**
 * What the EMA cloud would answer, derived in protocol.md §12 from the firmware's parsers.
 * None of the answers ends with LF: the ECU compares lengths with strlen (§7) or counts
 * timestamps (§4.1), so a newline would at best be ignored and at worst make it invalid.
 */

/**
 * `1` (stored) + count `01` + the upload's own timestamp: confirms the record just sent, so it
 * is marked done and never resent at night (§4.1, §4.2 — EMA confirms the previous record,
 * which leaves each day's last record unconfirmed).
 */
export function uploadAnswer(timestamp: string): Buffer {
  return Buffer.from(`101${timestamp.replace(/[^0-9]/g, "")}`, "latin1");
}

/** Nightly sync: "nothing stored" — the ECU then resends what it holds, each one confirmed (§5). */
export const SYNC_ANSWER = Buffer.from("100", "latin1");

/**
 * Control poll: command `A100` = "no more commands"; bytes 18..29 must be the ECU's own id and
 * the length field the exact byte count (§7, FW-R18 msg_format_check). Never any other command.
 */
export function noCommandsAnswer(ecuId: string): Buffer {
  return Buffer.from(`APS1300051A101AAA0${ecuId}A10000000000000000END`, "latin1");
}

/**
 * A123 answers carry no ECU id (the firmware skips the id check for A123): flag `1` at 18,
 * count `00` at 19-20, then END — 24 bytes.
 */
export const STATUS_ANSWER = Buffer.from("APS1300024A123AAA0100END", "latin1");

/** ECU11 download query → "file does not exist" (exists flag 0, size 0, CRC 0): no firmware (§8). */
export const NO_FILE_ANSWER = Buffer.concat([
  Buffer.from("ECU11003000010001END0", "latin1"),
  Buffer.alloc(6),
  Buffer.from("END", "latin1"),
]);

/** The local answer for a message, or null where none is known (unknown frames get none). */
export function answerFor(message: Message): Buffer | null {
  switch (message.type) {
    case "upload":
      return uploadAnswer(message.ecu.timestamp);
    case "sync_request":
      return SYNC_ANSWER;
    case "control_poll":
      return noCommandsAnswer(message.ecuId);
    case "status_query":
    case "status_report":
      return STATUS_ANSWER;
    case "firmware_query":
      return NO_FILE_ANSWER;
    case "unknown":
      return null;
  }
}
