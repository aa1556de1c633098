import { declaredLength, lengthField, lengthPrefix } from "./frameLength.js";
import type { Message } from "./types.js";

/**
 * What the EMA cloud would answer: derived in protocol.md §12 from the firmware's parsers, and
 * in a server's own form where its bytes are known (the control poll). None of the answers ends with LF: the ECU compares lengths with strlen (§7) or counts
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
 * Control poll → "no more commands", in the form a real server was seen sending:
 * `APS13AAA52A100AAA0<id>A101` + 14 zeros + result `0` + `END` — 52 bytes, `A`-padded length,
 * `A100` at 10..13, the polled `A101` echoed at 30..33, no LF. Evidence: the ECU-R dev unit's
 * WiFi debug log of 2017-05-27 (APsystems' test server answering a poll; capture
 * ecu-r-dev-2130/…wifilog_20170527_a101-poll-and-server-reply) and the developers' test-vector
 * sheet of 2017-05-24, which calls it the "EMA confirmation packet [52 bytes]"
 * (protocol-update-2026-12.md §2, §5, §6.3). Up to 0.2.0 the proxy sent the 51-byte
 * `APS1300051A101AAA0<id>A100…END` derived from the firmware parser (protocol.md §12.3). Both read
 * as command 100 in both firmware lineages — `msg_cmd_id` takes 30..33 when 10..13 is `A101`,
 * else 10..13 (FW-R18 control_client.c, FW-ECU3 remote_control_protocol.c) — and both pass the
 * length (strlen) and id (18..29) checks; the observed form is the one firmware nobody has read
 * is most likely to expect. `readControlAnswer` accepts both.
 */
export function noCommandsAnswer(ecuId: string): Buffer {
  return apsFrame("13", "A", `A100AAA0${ecuId}A101${"0".repeat(14)}0END`);
}

/** An APS frame whose length field counts its exact bytes (the ECU compares it with strlen, §7). */
function apsFrame(version: string, pad: "A" | "0", rest: string): Buffer {
  const length = lengthPrefix("APS") + rest.length;
  return Buffer.from(`APS${version}${lengthField(length, "APS", pad)}${rest}`, "latin1");
}

/**
 * An answer to a control poll read the way the ECU reads it (§7; FW-R18 `msg_format_check` and
 * `msg_cmd_id`, FW-ECU3 the same): `APS`, a length field equal to the bytes received (so no LF),
 * the ECU's own id at 18..29, and the command at 30..33 when 10..13 is `A101`, else at 10..13.
 * Returns the command the ECU would carry out, or why it would reject the answer.
 */
export function readControlAnswer(
  answer: Buffer,
  ecuId: string,
): { command: string } | { problem: string } {
  const text = answer.toString("latin1");
  if (!text.startsWith("APS")) return { problem: "does not start with APS" };
  const declared = declaredLength(text, "APS");
  if (declared !== text.length) {
    return {
      problem: `length field says ${declared ?? "nothing usable"}, received ${text.length}`,
    };
  }
  if (text.slice(18, 30) !== ecuId) return { problem: `carries id '${text.slice(18, 30)}'` };
  const head = text.slice(10, 14);
  return { command: head === "A101" ? text.slice(30, 34) : head };
}

/**
 * Whether an answer is one the ECU takes as `answerFor(message)`: for a control poll any frame
 * the ECU reads as "no more commands" (both forms above), for everything else the exact bytes.
 */
export function answerAccepted(message: Message, answer: Buffer): boolean {
  if (message.type === "control_poll") {
    const read = readControlAnswer(answer, message.ecuId);
    return "command" in read && read.command === "A100";
  }
  const expected = answerFor(message);
  return expected?.equals(answer) ?? false;
}

/**
 * A123 answers carry no ECU id (the firmware skips the id check for A123): flag `1` at 18,
 * count `00` at 19-20, then END — 24 bytes.
 */
export const STATUS_ANSWER = apsFrame("13", "0", "A123AAA0100END");

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
