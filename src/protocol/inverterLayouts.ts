import type { InverterModel } from "./types.js";

/**
 * Inverter record layouts of the APS18 upload, keyed by the 2-digit EMA type code at record
 * offset 12 (protocol.md §3.2/§3.3, from the FW-ECU3/FW-R18 firmware's protocol.c; 07 and 08
 * confirmed by the 2024 ECU-R capture). Offsets are relative to the record start, or to the
 * channel block for channel fields. Lengths exclude the record's trailing `END`.
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
function modernChannel(offset: number, marker: string): ChannelLayout {
  return {
    offset,
    marker,
    dcVoltage: { offset: 1, width: 5, divisor: 10 },
    dcCurrent: { offset: 6, width: 3, divisor: 10 },
    energy: { offset: 9, width: 6, divisor: 1000 },
    power: { offset: 15, width: 5, divisor: 100 },
  };
}

/** 34-char phase block of type 04: marker, A×10, grid V, reactive, active, output, mWh, W×100. */
function phaseChannel(offset: number, marker: string): ChannelLayout {
  return {
    offset,
    marker,
    dcCurrent: { offset: 1, width: 3, divisor: 10 },
    energy: { offset: 23, width: 6, divisor: 1000 },
    power: { offset: 29, width: 5, divisor: 100 },
  };
}

const MODERN_HEAD = {
  acVoltage: V3,
  frequency: FREQ,
  temperature: { offset: 22, width: 3, encoding: "plus100" as const },
  activePower: { offset: 30, width: 5 },
};

const LEGACY_HEAD = {
  acVoltage: V3,
  frequency: FREQ,
  temperature: { offset: 22, width: 3, encoding: "signedText" as const },
  activePower: { offset: 30, width: 5 },
};

export const INVERTER_LAYOUTS: Readonly<Record<string, InverterLayout>> = {
  // YC250, 1 input: head 41 chars + one 31-char block.
  "05": {
    typeCode: "05",
    product: "YC250",
    length: 72,
    ...LEGACY_HEAD,
    channels: [modernChannel(41, "A")],
  },
  // YC500, 2 inputs `A`/`B`.
  "03": {
    typeCode: "03",
    product: "YC500",
    length: 103,
    ...LEGACY_HEAD,
    channels: [modernChannel(41, "A"), modernChannel(72, "B")],
  },
  // YC1000 3-phase: DC V, frequency, temperature, then phases 1-3 and a 4th DC input.
  "04": {
    typeCode: "04",
    product: "YC1000",
    length: 144,
    dcVoltage: { offset: 14, width: 5, divisor: 10 },
    frequency: { offset: 19, width: 5, divisor: 10 },
    temperature: { offset: 24, width: 3, encoding: "plus100" },
    phaseVoltages: [
      { offset: 31, width: 3, divisor: 1 },
      { offset: 65, width: 3, divisor: 1 },
      { offset: 99, width: 3, divisor: 1 },
    ],
    channels: [
      phaseChannel(27, "1"),
      phaseChannel(61, "2"),
      phaseChannel(95, "3"),
      {
        offset: 129,
        marker: "4",
        dcCurrent: { offset: 1, width: 3, divisor: 10 },
        energy: { offset: 4, width: 6, divisor: 1000 },
        power: { offset: 10, width: 5, divisor: 100 },
      },
    ],
  },
  // YC600 (and the capture's 408… inverter), 2 inputs.
  "07": {
    typeCode: "07",
    product: "YC600",
    length: 85,
    ...MODERN_HEAD,
    channels: [modernChannel(45, "1"), modernChannel(65, "2")],
  },
  // QS1, 4 inputs.
  "08": {
    typeCode: "08",
    product: "QS1",
    length: 125,
    ...MODERN_HEAD,
    channels: [
      modernChannel(45, "1"),
      modernChannel(65, "2"),
      modernChannel(85, "3"),
      modernChannel(105, "4"),
    ],
  },
};
