/**
 * The common `APS` header (protocol.md §2) and the APS18 ECU section (§3.1), as data.
 * Offsets are from the start of the frame.
 */

import type { NumberField } from "./layouts/fields.js";

export interface Span {
  offset: number;
  width: number;
}

export const APS_HEADER = {
  magic: { offset: 0, width: 3 },
  version: { offset: 3, width: 2 },
  length: { offset: 5, width: 5 },
  command: { offset: 10, width: 4 },
  sequence: { offset: 14, width: 4 },
  ecuId: { offset: 18, width: 12 },
} as const satisfies Record<string, Span>;

/** Bytes before the length field is complete. */
export const APS_PREFIX_LENGTH = 10;

export const UPLOAD_SECTION = {
  /** System power: plain W on the 2024 ECU-R, W × 100 in 2017/18 firmware (§3.1, U3). */
  power: { offset: 30, width: 10 },
  /** Energy of this round, kWh × 1e6 (all zeros on the 2024 ECU-R). */
  roundEnergy: { offset: 40, width: 10, divisor: 1e6 },
  /** Lifetime energy, kWh × 10. */
  lifetimeEnergy: { offset: 50, width: 10, divisor: 10 },
  timestamp: { offset: 60, width: 14 },
  inverterCount: { offset: 74, width: 3 },
  timezoneFlag: { offset: 77, width: 1 },
  /** Offset 78 is a "more records follow" flag in old firmware; not used here. */
  reserved: { offset: 78, width: 5 },
  end: { offset: 83, width: 3 },
} as const satisfies Record<string, Span | NumberField>;

export const UPLOAD_SECTION_LENGTH = 86;

/** Command + sequence of a live upload, and of an inverter-side fill-up record (§6). */
export const UPLOAD_COMMAND = "AAAAAAA1";
export const FILL_UP_COMMAND = "00000001";

export const END = "END";

export function slice(text: string, span: Span): string {
  return text.slice(span.offset, span.offset + span.width);
}
