import { splitApsFrames } from "./replyCheck.js";

/**
 * What option `block_firmware_updates` keeps away from the ECU in forwarding mode.
 *
 * A "firmware offer", in the terms of protocol.md, is any of:
 *
 * 1. An answer on the ECU11 file-transfer path (§1 table, port 9220; §8): the ECU asks "does
 *    `/ECU_R_M3/V<x>/ecu-r-m3.bin` (or an inverter image such as YC600.BIN) exist?" and a "file
 *    exists" answer starts the download. ECU11 frames are therefore never forwarded at all while
 *    blocking: a download query gets the local "file does not exist" answer (§8, §12.4) and any
 *    other ECU11 frame (download chunks, the unexplained frame type 0004, §13 U7) gets the local
 *    answer — none. That path only exists for OTA, so nothing else is lost. (The firmware also
 *    fetches updates by FTP on 9219/21 — not a port this proxy serves or forwards.)
 * 2. A command in EMA's answer on the control channel (§7, port 8997). Command A136 is the
 *    "inverter update flag"; but an allow-list of "harmless" commands cannot be shown safe: the
 *    handler list is from 2013-2018 firmware (§7, §13 U8), A107 re-points the ECU at another
 *    server or domain (the update host, or away from this proxy), A108 runs an arbitrary custom
 *    command, A119 switches ECU↔EMA communication, A111 switches inverters off. So the choice
 *    here is strict: while blocking, **no EMA command reaches the ECU** — an answer to a control
 *    poll that carries any command other than A100 ("no more commands") is replaced by the local
 *    no-commands frame, and a command frame appended to an A123 status answer is removed (the
 *    status acknowledgement itself is kept). Users who want EMA's remote functions (power limit,
 *    inverter on/off, protection settings from the EMA app) must turn the option off, which lets
 *    everything through, update offers included.
 *
 * Upload and sync answers on 8995/8996 (`1NN…`, §4) carry no commands and are never changed.
 */

/** ECU11 frames are the OTA file-transfer protocol (§8). */
export function isFirmwareTransfer(frame: Buffer): boolean {
  return frame.toString("latin1", 0, 5) === "ECU11";
}

export interface ControlInspection {
  /** Commands EMA's answer would make the ECU carry out (`unrecognised` for bytes we cannot read). */
  commands: string[];
  /** The frames that carry no command (A101/A100 "no more commands", A123 status acknowledgements). */
  safe: Buffer[];
}

/**
 * Reads an EMA answer that starts with `APS` (the control channel's frames, §7) the way the ECU
 * does: when bytes 10..13 are `A101` the command is at 30..33, otherwise bytes 10..13 are it.
 * Answers that do not start with `APS` are not control answers and are left alone.
 */
export function inspectControlAnswer(answer: Buffer): ControlInspection {
  if (answer.toString("latin1", 0, 3) !== "APS") return { commands: [], safe: [] };
  const { frames, incomplete, rest } = splitApsFrames(answer);
  const commands: string[] = [];
  const safe: Buffer[] = [];
  for (const frame of frames) {
    const head = frame.toString("latin1", 10, 14);
    const command = head === "A101" ? frame.toString("latin1", 30, 34) : head;
    if (command === "A100" || command === "A123") safe.push(frame);
    else commands.push(command || "unrecognised");
  }
  if (incomplete || rest.length > 0) commands.push("unrecognised");
  return { commands, safe };
}
