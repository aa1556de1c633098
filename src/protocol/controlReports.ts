import { readPadded, readUint } from "./digits.js";
import { END } from "./header.js";
import type { ControlAckMessage, MaxPowerEntry, MaxPowerReportMessage } from "./types.js";

/**
 * What an ECU sends after carrying out a command of the control channel (§7).
 *
 * Acknowledgement (FW-R18 / FW-ECU3 `msg_ACK`, seen in the 2017 dev-unit log as
 * `APS1300052A100AAA0<id>A111201705240951390END`): `A100AAA0` + id + the command + the
 * command's own timestamp (echoed) + one result digit + `END` — 52 bytes. Result `0` = done;
 * other digits are the handler's failure codes (`2` for an unknown command; the firmware's
 * names for 1, 3… are not public, so the digit is kept as sent).
 */
export function decodeControlAck(text: string, ecuId: string): ControlAckMessage | undefined {
  if (text.length !== 52 || text.slice(10, 14) !== "A100" || !text.endsWith(END)) return undefined;
  const command = text.slice(30, 34);
  const timestamp = text.slice(34, 48);
  const result = text.slice(48, 49);
  if (!/^A1[0-9]{2}$/.test(command) || readUint(timestamp, 0, 14) === undefined) return undefined;
  // `A100`/`A101` here is the server's "no more commands" form (…wifilog_20170527), not an ECU's.
  if (command === "A100" || command === "A101") return undefined;
  if (!/^[0-9]$/.test(result)) return undefined;
  return { type: "control_ack", ecuId, command, timestamp, result };
}

/**
 * A117 "maximum power and range" report, sent on its own connection after the ECU acknowledged
 * an A117 request: `A117AAA0` + id + count(4) + 14 characters (zeros in the firmware's
 * process-result reports) + `END`, then the entries. The entry layout is from FW-ECU3's older,
 * commented-out inline builder of the same report: uid(12) + current limit(3, `-1` when not
 * read) + the range, min(3) max(3) (`MAXPOWER_RANGE` "020300") + `END`. No real A117 report is
 * public, so entries that do not have exactly that shape are kept raw in `unparsed`.
 */
export function decodeMaxPowerReport(
  text: string,
  ecuId: string,
): MaxPowerReportMessage | undefined {
  if (text.slice(10, 14) !== "A117" || text.slice(48, 51) !== END || !text.endsWith(END)) {
    return undefined;
  }
  const count = readPadded(text, 30, 4);
  if (count === undefined) return undefined;
  const body = text.slice(51, text.length - END.length);
  const entries: MaxPowerEntry[] = [];
  const unparsed: string[] = [];
  for (const part of body === "" ? [] : body.split(END)) {
    const match = /^([0-9]{12})([0-9 -]{3})([0-9]{3})([0-9]{3})$/.exec(part);
    if (!match) {
      unparsed.push(part);
      continue;
    }
    const [, uid = "", limit = "", min = "", max = ""] = match;
    const limitW = /^[0-9]{3}$/.test(limit) ? Number(limit) : null;
    entries.push({ uid, limitW, minW: Number(min), maxW: Number(max) });
  }
  return { type: "max_power_report", ecuId, count, entries, unparsed, raw: text };
}
