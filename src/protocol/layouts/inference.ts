import type { Inverter } from "../types.js";
import type { InverterLayout } from "./fields.js";
import { INVERTER_LAYOUTS } from "./index.js";
import { QS1_LAYOUT } from "./qs1.js";
import { YC600_LAYOUT } from "./yc600.js";

/**
 * Layout inference for records whose EMA type code nobody has published (protocol.md §13 U4:
 * DS3, DS3-L/-H, DS3-D, QS1A, QT2). Such a record is read with a known layout when
 * 1. its uid prefix names a family with that layout's number of inputs (models.ts, with the
 *    source of each row),
 * 2. its length (the distance between two `END`s of the upload, §3.2 — a record carries no
 *    length of its own) is that layout's record length, and
 * 3. every value read passes INFERENCE_BOUNDS.
 * Anything else stays raw, as a record of unknown type always did. One row per input count, so
 * a record fits at most one row, and an inverter's inputs name the layout it was read with.
 */
export interface InferenceRow {
  inputs: number;
  layout: InverterLayout;
  /** Why a record of unknown type may be read this way. */
  source: string;
}

export const LAYOUT_INFERENCE: readonly InferenceRow[] = [
  {
    inputs: 2,
    layout: YC600_LAYOUT,
    source:
      "HAE-P api.py reads every record of a 2-input uid (406-409; 703/706, DS3, since 2024-08) at the type-07 offsets whatever its type code, and DS3 owners use it: power and DC voltage sit where type 07 has them (its 'current' digits are the round energy's, protocol.md §3.2)",
  },
  {
    inputs: 4,
    layout: QS1_LAYOUT,
    source:
      "HAE-P api.py reads 4-input uids (801/802/805/806, 501-504) at the same offsets with four 20-char input blocks: the type-08 layout",
  },
  // Not rows: types 05/03/04 (YC250, YC500, YC1000 of the 2013 firmware, FW-ECU3/FW-R18). No
  // source reads a record of another type with them, and their products predate the codes we
  // lack.
];

export interface Bound {
  min: number;
  max: number;
}

/**
 * What a record read with an inferred layout must show (and what a misread field rarely does).
 * Power: the channels together within the family's rating (models.ts) × INFERRED_POWER_HEADROOM.
 */
export const INFERENCE_BOUNDS = {
  dcVoltageV: { min: 0, max: 80 },
  acVoltageV: { min: 80, max: 300 },
  frequencyHz: { min: 45, max: 65 },
  temperatureC: { min: -40, max: 100 },
} as const satisfies Record<string, Bound>;

/**
 * DC input may exceed the AC rating (oversized panels, clipping after conversion losses): the
 * same headroom src/devices/plausibility.ts allows every record.
 */
export const INFERRED_POWER_HEADROOM = 1.5;

const UNITS: Record<keyof typeof INFERENCE_BOUNDS, string> = {
  dcVoltageV: "V",
  acVoltageV: "V",
  frequencyHz: "Hz",
  temperatureC: "°C",
};
const NAMES: Record<keyof typeof INFERENCE_BOUNDS, string> = {
  dcVoltageV: "DC voltage",
  acVoltageV: "AC voltage",
  frequencyHz: "frequency",
  temperatureC: "temperature",
};

function outside(
  name: keyof typeof INFERENCE_BOUNDS,
  value: number | undefined,
  label = NAMES[name],
): string | undefined {
  const { min, max } = INFERENCE_BOUNDS[name];
  if (value !== undefined && value >= min && value <= max) return undefined;
  return `${label} ${value ?? "missing"} ${UNITS[name]} is outside ${min}–${max} ${UNITS[name]}`;
}

/** The first value of an inverter read with an inferred layout that breaks a bound. */
export function breaksBounds(inv: Inverter, ratedW: number): string | undefined {
  const head =
    outside("acVoltageV", inv.acVoltageV) ??
    outside("frequencyHz", inv.frequencyHz) ??
    outside("temperatureC", inv.temperatureC);
  if (head) return head;
  let total = 0;
  for (let i = 0; i < inv.channels.length; i++) {
    const ch = inv.channels[i];
    if (!ch) continue;
    const dc = outside("dcVoltageV", ch.dcVoltageV, `channel ${i + 1} DC voltage`);
    if (dc) return dc;
    total += ch.powerW;
  }
  const max = ratedW * INFERRED_POWER_HEADROOM;
  if (total > max) {
    return `power ${Math.round(total * 100) / 100} W is beyond ${ratedW} W × ${INFERRED_POWER_HEADROOM}`;
  }
  return undefined;
}

/** The row for a family of `inputs` inputs, if any. */
export function inferenceRow(inputs: number | undefined): InferenceRow | undefined {
  return LAYOUT_INFERENCE.find((row) => row.inputs === inputs);
}

/**
 * The layout an inverter already decoded was read with, when its type code is not one we know:
 * decodeInverterRecord reads such a record only by inference, so a device whose last record
 * decoded with this type code was read with the row for its number of inputs.
 */
export function inferredLayoutOf(typeCode: string, inputs: number): InverterLayout | undefined {
  if (Object.hasOwn(INVERTER_LAYOUTS, typeCode)) return undefined;
  return inferenceRow(inputs)?.layout;
}
