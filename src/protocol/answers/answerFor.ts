import type { Message } from "../types.js";
import { noCommandsAnswer, readControlAnswer } from "./controlPoll.js";
import { NO_FILE_ANSWER } from "./firmwareQuery.js";
import { SYNC_ANSWER } from "./nightlySync.js";
import { STATUS_ANSWER } from "./statusQuery.js";
import { uploadAnswer } from "./uploadAck.js";

/**
 * What the EMA cloud would answer: derived in protocol.md §12 from the firmware's parsers, and
 * in a server's own form where its bytes are known (the control poll). None of the answers ends with LF: the ECU compares lengths with strlen (§7) or counts
 * timestamps (§4.1), so a newline would at best be ignored and at worst make it invalid.
 * Each answer, with its evidence, is in the file named for the message it answers.
 */

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
    // Reports of the control channel are sent without waiting for an answer (§7).
    case "control_ack":
    case "max_power_report":
    case "unknown":
      return null;
  }
}

/**
 * Whether an answer is one the ECU takes as `answerFor(message)`: for a control poll any frame
 * the ECU reads as "no more commands" (both forms in controlPoll.ts), for everything else the
 * exact bytes.
 */
export function answerAccepted(message: Message, answer: Buffer): boolean {
  if (message.type === "control_poll") {
    const read = readControlAnswer(answer, message.ecuId);
    return "command" in read && read.command === "A100";
  }
  const expected = answerFor(message);
  return expected?.equals(answer) ?? false;
}
