import { declaredLength } from "../frameLength.js";
import { apsFrame } from "./apsFrame.js";

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
