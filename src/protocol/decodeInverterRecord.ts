import { allDigits, readSignedText, readUint, scaled } from "./digits.js";
import type { ChannelLayout, InverterLayout, NumberField } from "./layouts/fields.js";
import { INVERTER_LAYOUTS } from "./layouts/index.js";
import { breaksBounds, inferenceRow } from "./layouts/inference.js";
import { inverterFamily, inverterFamilyOf, ratedPowerW } from "./models.js";
import type { Channel, Inverter, InverterModel } from "./types.js";

class RecordProblem extends Error {}

const TYPE_CODE = /^[0-9]{2}$/;

/**
 * A scaled number field. `name` (and `channel`, 1-based) only label the error: the message is
 * built when a field is bad, not for each of the ~20 fields of every good record.
 */
function num(record: string, base: number, field: NumberField, name: string, channel = 0): number {
  const raw = readUint(record, base + field.offset, field.width);
  if (raw === undefined) {
    const text = record.slice(base + field.offset, base + field.offset + field.width);
    const label = channel > 0 ? `channel ${channel} ${name}` : name;
    throw new RecordProblem(`${label} is not a number ('${text}')`);
  }
  return scaled(raw, field.divisor);
}

function decodeKnown(
  record: string,
  layout: InverterLayout,
  uid: string,
  typeCode: string,
  model: InverterModel,
): Inverter {
  const t = layout.temperature;
  const temperatureRaw =
    t.encoding === "plus100"
      ? readUint(record, t.offset, t.width)
      : readSignedText(record, t.offset, t.width);
  if (temperatureRaw === undefined) throw new RecordProblem("temperature is not a number");
  const temperatureC = t.encoding === "plus100" ? temperatureRaw - 100 : temperatureRaw;

  const sharedDcVoltage = layout.dcVoltage
    ? num(record, 0, layout.dcVoltage, "DC voltage")
    : undefined;
  // Plain loops and literals: this runs for every inverter of every upload.
  const channels: Channel[] = [];
  for (let i = 0; i < layout.channels.length; i++) {
    const ch = layout.channels[i] as ChannelLayout;
    const marker = record.charAt(ch.offset);
    if (marker !== ch.marker) {
      throw new RecordProblem(`channel ${i + 1} marker is '${marker}', expected '${ch.marker}'`);
    }
    const dcVoltageV = ch.dcVoltage
      ? num(record, ch.offset, ch.dcVoltage, "DC voltage", i + 1)
      : (sharedDcVoltage ?? 0);
    channels.push({
      powerW: num(record, ch.offset, ch.power, "power", i + 1),
      dcVoltageV,
      dcCurrentA: num(record, ch.offset, ch.dcCurrent, "DC current", i + 1),
      energyWh: num(record, ch.offset, ch.energy, "energy", i + 1),
    });
  }

  let phases: number[] | undefined;
  if (layout.phaseVoltages) {
    phases = [];
    for (let i = 0; i < layout.phaseVoltages.length; i++) {
      phases.push(num(record, 0, layout.phaseVoltages[i] as NumberField, `phase ${i + 1} voltage`));
    }
  }
  const acVoltageV = layout.acVoltage
    ? num(record, 0, layout.acVoltage, "AC voltage")
    : phases?.[0];
  // Key order is the order of `ecu-proxy decode` output: channels come after the voltages.
  const head: Omit<Inverter, "channels"> = {
    uid,
    typeCode,
    model,
    frequencyHz: num(record, 0, layout.frequency, "frequency"),
    temperatureC,
  };
  if (acVoltageV !== undefined) head.acVoltageV = acVoltageV;
  if (phases) head.phaseVoltagesV = phases;
  const inverter = head as Inverter;
  inverter.channels = channels;
  if (layout.activePower) {
    const { offset, width } = layout.activePower;
    inverter.activePowerRaw = record.slice(offset, offset + width);
  }
  return inverter;
}

/** A record whose layout is known but whose content is not usable: kept as received. */
function keptRaw(
  record: string,
  uid: string,
  typeCode: string,
  model: InverterModel,
  problem: string,
): Inverter {
  return { uid, typeCode, model, channels: [], raw: record, problem };
}

/**
 * A record whose type code is unknown: read with the inference table's layout for its family's
 * inputs when its length fits and every value is within bounds (layouts/inference.ts), else
 * kept raw with the reason.
 */
function decodeInferred(record: string, uid: string, typeCode: string): Inverter {
  const family = inverterFamilyOf(uid);
  const model = family?.model ?? "unknown";
  const raw = (why: string) =>
    keptRaw(record, uid, typeCode, model, `unknown type code '${typeCode}' (${why})`);
  if (!TYPE_CODE.test(typeCode)) return raw("not two digits; not inferred");
  if (!allDigits(uid, 0, 12)) return raw(`uid '${uid}' is not 12 digits; not inferred`);
  if (!family) return raw("its uid prefix names no inverter family; not inferred");
  const row = inferenceRow(family.inputs);
  const rated = ratedPowerW(family.model);
  if (!row || rated === undefined) {
    return raw(
      `${family.model}, ${family.inputs ?? "unknown number of"} inputs: no layout to infer`,
    );
  }
  const { layout } = row;
  const as = `read as type ${layout.typeCode} (${layout.product})`;
  if (record.length !== layout.length) {
    return raw(
      `a ${family.model} record would be read as type ${layout.typeCode} at ${layout.length} chars, this one is ${record.length}; not inferred`,
    );
  }
  let inverter: Inverter;
  try {
    inverter = decodeKnown(record, layout, uid, typeCode, model);
  } catch (err) {
    if (err instanceof RecordProblem) return raw(`${as}: ${err.message}`);
    throw err;
  }
  const broken = breaksBounds(inverter, rated);
  if (broken) return raw(`${as}: ${broken}`);
  inverter.layoutInferred = layout.typeCode;
  return inverter;
}

/**
 * One inverter record (without its `END`). Never fails: a record whose type code is unknown
 * and cannot be inferred, whose length does not fit its layout, or that holds non-digits is
 * kept raw with `problem` set, so one bad record never costs the readings of the others.
 */
export function decodeInverterRecord(record: string): Inverter {
  const uid = record.slice(0, 12);
  const typeCode = record.slice(12, 14);
  const layout = INVERTER_LAYOUTS[typeCode];
  if (!layout) return decodeInferred(record, uid, typeCode);
  const model = inverterFamily(uid) ?? layout.product;
  if (!allDigits(uid, 0, 12))
    return keptRaw(record, uid, typeCode, model, `uid '${uid}' is not 12 digits`);
  if (record.length !== layout.length) {
    return keptRaw(
      record,
      uid,
      typeCode,
      model,
      `type ${typeCode} records are ${layout.length} chars, this one is ${record.length}`,
    );
  }
  try {
    return decodeKnown(record, layout, uid, typeCode, model);
  } catch (err) {
    if (err instanceof RecordProblem) return keptRaw(record, uid, typeCode, model, err.message);
    throw err;
  }
}
