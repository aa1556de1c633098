import { apsFrame } from "./apsFrame.js";

/**
 * The only commands this proxy ever builds for an ECU (issue 19). Anything that re-points the
 * ECU's server (A107), runs a command (A108), switches its EMA link (A119) or flags an update
 * (A136) cannot be expressed in this type, so no input can turn into one.
 */
export const CONTROL_CODES = ["A110", "A111", "A117"] as const;
export type ControlCode = (typeof CONTROL_CODES)[number];

export type ControlCommand =
  /** A111 type 0 (all on) / 1 (all off). */
  | { kind: "switch_all"; on: boolean }
  /** A111 type 2: the listed inverters, each on or off. */
  | { kind: "switch"; inverters: readonly { uid: string; on: boolean }[] }
  /** A110 type 0: every inverter's maximum power, W (the form of the test server's frame). */
  | { kind: "max_power_all"; watts: number }
  /** A110 type 1: the listed inverters' maximum power, W. */
  | { kind: "max_power"; inverters: readonly { uid: string; watts: number }[] }
  /** A117: "report the inverters' maximum power and range" (answered later, on its own). */
  | { kind: "report_max_power" };

const UID = /^[0-9]{12}$/;
const STAMP = /^[0-9]{14}$/;
/** A110 carries watts in 3 digits (FW-R18 inverter_maxpower.c reads `msg_get_int(…, 3)`). */
export const MAX_POWER_FIELD_MAX = 999;

export function commandCode(command: ControlCommand): ControlCode {
  switch (command.kind) {
    case "switch_all":
    case "switch":
      return "A111";
    case "max_power_all":
    case "max_power":
      return "A110";
    case "report_max_power":
      return "A117";
  }
}

function uid(value: string): string {
  if (!UID.test(value)) throw new RangeError(`inverter id '${value}' is not 12 digits`);
  return value;
}

function count(n: number): string {
  if (n < 1 || n > 9999) throw new RangeError(`${n} inverters do not fit a command`);
  return String(n).padStart(4, "0");
}

function watts(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > MAX_POWER_FIELD_MAX) {
    throw new RangeError(`${value} W does not fit the 3-digit power field`);
  }
  return String(value).padStart(3, "0");
}

/**
 * The frame the ECU reads as `command`, in the form APsystems' test server sent it to an ECU-R
 * in 2017 (samples/control-channel-2017, …a118log…server-to-ecu: `A`-padded length, no LF):
 *
 * - A111: type at 30 (0 all on, 1 all off, 2 listed), count at 31..34, timestamp at 35..48,
 *   `END`, then per inverter uid(12) + `0` on | `1` off + `END` (FW-R18 inverter_onoff.c).
 * - A110: type at 30 (0 all, 1 listed), count, timestamp, `END`, then for type 0 watts(3) +
 *   `END`, for type 1 per inverter uid(12) + watts(3) + `END` (FW-R18 inverter_maxpower.c).
 * - A117: a report request in the poll's shape, `A101` at 10, `A117` at 30, timestamp at 34
 *   (the test server's A118 had this shape; response_inverter_maxpower reads 34..47).
 *
 * The Linux lineage (FW-ECU3 remote_control_protocol.c, inverter_onoff.c, inverter_maxpower.c:
 * ECU-C, ECU-R-Pro) reads these offsets identically; it keeps the settings in SQLite instead of
 * files, which changes nothing on the wire. Its own frames are `A`-padded (`APS13AAA51…`), which
 * the decoder reads like the `0`-padded ones (protocol-update-2026-12.md §3).
 *
 * The ECU echoes `timestamp` in its acknowledgement, so a unique one per command is the key
 * that matches them. Throws RangeError on values the fields cannot carry (callers check first).
 */
export function buildControlCommand(
  ecuId: string,
  command: ControlCommand,
  timestamp: string,
): Buffer {
  if (!UID.test(ecuId)) throw new RangeError(`ECU id '${ecuId}' is not 12 digits`);
  if (!STAMP.test(timestamp)) throw new RangeError(`timestamp '${timestamp}' is not 14 digits`);
  const head = (code: string) => `${code}AAA0${ecuId}`;
  switch (command.kind) {
    case "switch_all":
      return apsFrame("13", "A", `${head("A111")}${command.on ? 0 : 1}0000${timestamp}END`);
    case "switch": {
      const list = command.inverters.map((i) => `${uid(i.uid)}${i.on ? 0 : 1}END`).join("");
      return apsFrame(
        "13",
        "A",
        `${head("A111")}2${count(command.inverters.length)}${timestamp}END${list}`,
      );
    }
    case "max_power_all":
      return apsFrame("13", "A", `${head("A110")}00000${timestamp}END${watts(command.watts)}END`);
    case "max_power": {
      const list = command.inverters.map((i) => `${uid(i.uid)}${watts(i.watts)}END`).join("");
      return apsFrame(
        "13",
        "A",
        `${head("A110")}1${count(command.inverters.length)}${timestamp}END${list}`,
      );
    }
    case "report_max_power":
      return apsFrame("13", "A", `${head("A101")}A117${timestamp}END`);
  }
}
