import { decodeControlAck, decodeMaxPowerReport } from "./controlReports.js";
import { readPadded, readTimestamp } from "./digits.js";
import { APS_HEADER, END, slice } from "./header.js";
import type {
  ControlAckMessage,
  ControlPollMessage,
  DecodeError,
  InverterStatus,
  MaxPowerReportMessage,
  StatusQueryMessage,
  StatusReportMessage,
  UnknownMessage,
} from "./types.js";

/**
 * Control-channel frames (port 8997 in the firmware; any port here), protocol.md §7.
 * `APS13…A101AAA0<id>A101` + 14 zeros + END — "any command for me?"
 * `APS13…A123AAA0<id>` + 18 zeros + END — at 01:00, "which statuses do you have?"
 */
const POLL_BODY = `A101${"0".repeat(14)}${END}`;
const STATUS_QUERY_BODY = `${"0".repeat(18)}${END}`;

export function decodeAps13(
  text: string,
  ecuId: string,
):
  | ControlPollMessage
  | StatusQueryMessage
  | ControlAckMessage
  | MaxPowerReportMessage
  | UnknownMessage {
  const command = slice(text, APS_HEADER.command);
  const body = text.slice(30);
  if (command === "A101" && body === POLL_BODY) return { type: "control_poll", ecuId };
  if (command === "A123" && body === STATUS_QUERY_BODY) return { type: "status_query", ecuId };
  const report =
    command === "A100"
      ? decodeControlAck(text, ecuId)
      : command === "A117"
        ? decodeMaxPowerReport(text, ecuId)
        : undefined;
  if (report) return report;
  return { type: "unknown", kind: `APS13/${command}`, ecuId, raw: text };
}

/**
 * `APS15…A123AAA1<id>` + count(4) + timestamp(14) + END + per-inverter statuses
 * (uid + type code + fault bits + END), §7 (FW-R18 protocol_status).
 */
export function decodeStatusReport(text: string, ecuId: string): StatusReportMessage | DecodeError {
  const count = readPadded(text, 30, 4);
  if (count === undefined) {
    return {
      type: "error",
      code: "bad_number",
      detail: `status count '${text.slice(30, 34)}' is not a number`,
    };
  }
  const timestamp = readTimestamp(text, 34);
  if (timestamp === undefined) {
    return {
      type: "error",
      code: "bad_timestamp",
      detail: `status timestamp '${text.slice(34, 48)}' is not valid`,
    };
  }
  if (text.slice(48, 51) !== END || !text.endsWith(END)) {
    return {
      type: "error",
      code: "missing_end",
      detail: "status report sections do not end with END",
    };
  }
  const body = text.slice(51, text.length - END.length);
  const statuses: InverterStatus[] = (body === "" ? [] : body.split(END)).map((s) => ({
    uid: s.slice(0, 12),
    typeCode: s.slice(12, 14),
    bits: s.slice(14),
  }));
  return { type: "status_report", ecuId, count, timestamp, statuses };
}
