import { declaredLength } from "../protocol/frameLength.js";

/**
 * How far an answer read from EMA has come, judged by its own format (protocol.md §4.1, §7, §8).
 * EMA's answers carry no common length prefix, so the relay reads until EMA closes or goes quiet;
 * this tells it whether a quiet pause may end the answer or whether bytes are still owed.
 *
 * - `incomplete`: the bytes so far are the start of a known format whose declared size is not
 *   reached yet (an APS frame short of its length field, `1NN` short of NN timestamps, an ECU11
 *   frame short of its 4-digit length). Never hand this to the ECU: a malformed 8997 answer makes
 *   the ECU reconnect in a tight loop (§7).
 * - `complete`: a known format, fully there (a trailing LF, or further whole APS frames, allowed).
 * - `unknown`: not a format we know; a quiet pause ends it and it is relayed as it is.
 */
export type AnswerState = "incomplete" | "complete" | "unknown";

const LF = 0x0a;
const CR = 0x0d;

/** Skips the line ends EMA may put between or after frames. */
function skipLineEnds(data: Buffer, at: number): number {
  let i = at;
  while (i < data.length && (data[i] === LF || data[i] === CR)) i++;
  return i;
}

/** `F NN TS×NN` (§4.1): flag digit, two-digit count, then NN 14-digit timestamps. */
function uploadReplyState(text: string): AnswerState {
  if (!/^[0-9]/.test(text)) return "unknown";
  if (text.length < 3) return /^[0-9]+$/.test(text) ? "incomplete" : "unknown";
  const count = Number(text.slice(1, 3));
  if (!/^[0-9]{2}$/.test(text.slice(1, 3))) return "unknown";
  const needed = 3 + 14 * count;
  if (text.length < needed) return /^[0-9]+$/.test(text) ? "incomplete" : "unknown";
  return "complete";
}

/** Byte ranges of the whole APS frames in an answer; `rest` is what follows them. */
export function splitApsFrames(data: Buffer): {
  frames: Buffer[];
  incomplete: boolean;
  rest: Buffer;
} {
  const frames: Buffer[] = [];
  let at = 0;
  for (;;) {
    at = skipLineEnds(data, at);
    if (at >= data.length) return { frames, incomplete: false, rest: Buffer.alloc(0) };
    const head = data.toString("latin1", at, Math.min(at + 10, data.length));
    if (!"APS".startsWith(head.slice(0, 3))) {
      return { frames, incomplete: false, rest: data.subarray(at) };
    }
    if (head.length < 10) return { frames, incomplete: true, rest: data.subarray(at) };
    const declared = declaredLength(head, "APS");
    if (declared === undefined) {
      return { frames, incomplete: false, rest: data.subarray(at) };
    }
    if (data.length - at < declared) return { frames, incomplete: true, rest: data.subarray(at) };
    frames.push(data.subarray(at, at + declared));
    at += declared;
  }
}

export function answerState(data: Buffer): AnswerState {
  if (data.length === 0) return "incomplete";
  const first = data.toString("latin1", 0, 1);
  if (first === "A") {
    const { frames, incomplete, rest } = splitApsFrames(data);
    if (incomplete) return "incomplete";
    return frames.length > 0 && rest.length === 0 ? "complete" : "unknown";
  }
  if (first === "E") {
    // ECU11 + 4-digit total length (§8); binary after that.
    const head = data.toString("latin1", 0, Math.min(9, data.length));
    if (!"ECU11".startsWith(head.slice(0, 5))) return "unknown";
    if (head.length < 9) return "incomplete";
    const declared = declaredLength(head, "ECU11");
    if (declared === undefined) return "unknown";
    const end = skipLineEnds(data, declared);
    if (data.length < declared) return "incomplete";
    return end === data.length ? "complete" : "unknown";
  }
  return uploadReplyState(data.toString("latin1").replace(/[\r\n]+$/, ""));
}
