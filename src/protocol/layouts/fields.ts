import type { InverterModel } from "../types.js";

/**
 * Inverter record layouts of the APS18 upload, keyed by the 2-digit EMA type code at record
 * offset 12 (protocol.md §3.2/§3.3, from the FW-ECU3/FW-R18 firmware's protocol.c; 07 and 08
 * confirmed by the 2024 ECU-R capture). Offsets are relative to the record start, or to the
 * channel block for channel fields. Lengths exclude the record's trailing `END`.
 * This file holds the field types and the parts families share; each family's layout is in the
 * file named for it (qs1.ts, yc600.ts, …), the table by type code in index.ts.
 */

export interface NumberField {
  offset: number;
  width: number;
  /** The wire value is the real value × divisor. */
  divisor: number;
}

export interface ChannelLayout {
  offset: number;
  /** Literal channel marker at block offset 0. */
  marker: string;
  /** Block-relative DC voltage; absent when the record carries one voltage for all inputs. */
  dcVoltage?: NumberField;
  dcCurrent: NumberField;
  /** Energy of this polling round, kWh × 1e6 on the wire = mWh; divisor 1000 gives Wh. */
  energy: NumberField;
  power: NumberField;
}

export interface InverterLayout {
  typeCode: string;
  product: InverterModel;
  length: number;
  frequency: NumberField;
  temperature: { offset: number; width: number; encoding: "plus100" | "signedText" };
  /** Single-phase grid voltage. */
  acVoltage?: NumberField;
  /** Per-phase grid voltages (3-phase type 04), record-relative. */
  phaseVoltages?: NumberField[];
  /** One DC voltage for every input (type 04). */
  dcVoltage?: NumberField;
  /** Active power as sent; scale unconfirmed (§13 U5), so only the raw digits are kept. */
  activePower?: { offset: number; width: number };
  channels: ChannelLayout[];
}

const V3: NumberField = { offset: 14, width: 3, divisor: 1 };
const FREQ: NumberField = { offset: 17, width: 5, divisor: 10 };

/**
 * DC input block: marker, V×10, A×10, mWh, W×100. 20 chars in types 07/08; types 05/03 use the
 * same first 20 chars followed by 11 status bits (31 chars), which are not decoded.
 */
export function modernChannel(offset: number, marker: string): ChannelLayout {
  return {
    offset,
    marker,
    dcVoltage: { offset: 1, width: 5, divisor: 10 },
    dcCurrent: { offset: 6, width: 3, divisor: 10 },
    energy: { offset: 9, width: 6, divisor: 1000 },
    power: { offset: 15, width: 5, divisor: 100 },
  };
}

/** Record head of types 07/08: grid V, frequency, temperature + 100, active power. */
export const MODERN_HEAD = {
  acVoltage: V3,
  frequency: FREQ,
  temperature: { offset: 22, width: 3, encoding: "plus100" as const },
  activePower: { offset: 30, width: 5 },
};

/** Record head of types 05/03: as MODERN_HEAD, but the temperature is signed text. */
export const LEGACY_HEAD = {
  acVoltage: V3,
  frequency: FREQ,
  temperature: { offset: 22, width: 3, encoding: "signedText" as const },
  activePower: { offset: 30, width: 5 },
};
