import { readPadded } from "./digits.js";
import { ECU11_HEADER, ECU11_PREFIX_LENGTH } from "./firmware.js";
import { APS_HEADER, APS_PREFIX_LENGTH, type Span } from "./header.js";

/**
 * The frame families that state their own length, and where (protocol.md §2, §8). The framer,
 * the decoder, the builders of uploads and answers and the reader of EMA's answers all go
 * through this one reader and writer, so "how long is this frame" has a single answer.
 */
export type LengthFramed = "APS" | "ECU11";

interface LengthField {
  span: Span;
  /** Bytes up to and including the length field; a shorter declared length is impossible. */
  prefix: number;
}

const LENGTH_FIELDS: Readonly<Record<LengthFramed, LengthField>> = {
  // Total bytes without the LF the ECU appends; padded with `A` or `0`, both occur (§2).
  APS: { span: APS_HEADER.length, prefix: APS_PREFIX_LENGTH },
  // Total bytes of the binary-safe OTA frame (§8).
  ECU11: { span: ECU11_HEADER.length, prefix: ECU11_PREFIX_LENGTH },
};

/** Characters needed before the length of a `kind` frame can be read. */
export function lengthPrefix(kind: LengthFramed): number {
  return LENGTH_FIELDS[kind].prefix;
}

/**
 * The total length a frame declares, or undefined when its length field is not a usable length
 * (not `A`/`0`-padded digits, or shorter than the header that carries it). `head` is the
 * frame's start as latin1 text, at least `lengthPrefix(kind)` characters.
 */
export function declaredLength(head: string, kind: LengthFramed): number | undefined {
  const { span, prefix } = LENGTH_FIELDS[kind];
  const value = readPadded(head, span.offset, span.width);
  return value !== undefined && value >= prefix ? value : undefined;
}

/** The length field as sent, for messages about it. */
export function lengthFieldText(head: string, kind: LengthFramed): string {
  const { span } = LENGTH_FIELDS[kind];
  return head.slice(span.offset, span.offset + span.width);
}

/** The length field's text for a frame of `length` bytes, left-padded with `pad`. */
export function lengthField(length: number, kind: LengthFramed, pad: "A" | "0"): string {
  const { span } = LENGTH_FIELDS[kind];
  const digits = String(length);
  if (!Number.isInteger(length) || length < 0 || digits.length > span.width) {
    throw new RangeError(`${kind} length ${length} does not fit in ${span.width} digits`);
  }
  return digits.padStart(span.width, pad);
}
