import { readSignedText, readUint, scaled } from "./digits.js";
import { INVERTER_LAYOUTS, type InverterLayout, type NumberField } from "./inverterLayouts.js";
import { inverterFamily } from "./models.js";
import type { Channel, Inverter } from "./types.js";

class RecordProblem extends Error {}

function num(record: string, base: number, field: NumberField, name: string): number {
  const raw = readUint(record, base + field.offset, field.width);
  if (raw === undefined) {
    const text = record.slice(base + field.offset, base + field.offset + field.width);
    throw new RecordProblem(`${name} is not a number ('${text}')`);
  }
  return scaled(raw, field.divisor);
}

function decodeKnown(record: string, layout: InverterLayout): Omit<Inverter, "uid" | "typeCode"> {
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
  const channels: Channel[] = layout.channels.map((ch, i) => {
    const marker = record.charAt(ch.offset);
    if (marker !== ch.marker) {
      throw new RecordProblem(`channel ${i + 1} marker is '${marker}', expected '${ch.marker}'`);
    }
    const dcVoltageV = ch.dcVoltage
      ? num(record, ch.offset, ch.dcVoltage, `channel ${i + 1} DC voltage`)
      : (sharedDcVoltage ?? 0);
    return {
      powerW: num(record, ch.offset, ch.power, `channel ${i + 1} power`),
      dcVoltageV,
      dcCurrentA: num(record, ch.offset, ch.dcCurrent, `channel ${i + 1} DC current`),
      energyWh: num(record, ch.offset, ch.energy, `channel ${i + 1} energy`),
    };
  });

  const phases = layout.phaseVoltages?.map((f, i) => num(record, 0, f, `phase ${i + 1} voltage`));
  const acVoltageV = layout.acVoltage
    ? num(record, 0, layout.acVoltage, "AC voltage")
    : phases?.[0];
  // Key order is the order of `ecu-proxy decode` output.
  const inverter: Omit<Inverter, "uid" | "typeCode"> = {
    model: layout.product,
    frequencyHz: num(record, 0, layout.frequency, "frequency"),
    temperatureC,
    ...(acVoltageV !== undefined ? { acVoltageV } : {}),
    ...(phases ? { phaseVoltagesV: phases } : {}),
    channels,
  };
  if (layout.activePower) {
    const { offset, width } = layout.activePower;
    inverter.activePowerRaw = record.slice(offset, offset + width);
  }
  return inverter;
}

/**
 * One inverter record (without its `END`). Never fails: a record whose type code is unknown,
 * whose length does not fit its layout, or that holds non-digits is kept raw with `problem`
 * set, so one bad record never costs the readings of the others.
 */
export function decodeInverterRecord(record: string): Inverter {
  const uid = record.slice(0, 12);
  const typeCode = record.slice(12, 14);
  const family = inverterFamily(uid);
  const layout = INVERTER_LAYOUTS[typeCode];
  if (!layout) {
    return {
      uid,
      typeCode,
      model: "unknown",
      channels: [],
      raw: record,
      problem: `unknown type code '${typeCode}'`,
    };
  }
  const kept = (problem: string): Inverter => ({
    uid,
    typeCode,
    model: family ?? layout.product,
    channels: [],
    raw: record,
    problem,
  });
  if (!/^[0-9]{12}$/.test(uid)) return kept(`uid '${uid}' is not 12 digits`);
  if (record.length !== layout.length) {
    return kept(
      `type ${typeCode} records are ${layout.length} chars, this one is ${record.length}`,
    );
  }
  try {
    const decoded = decodeKnown(record, layout);
    return { uid, typeCode, ...decoded, model: family ?? layout.product };
  } catch (err) {
    if (err instanceof RecordProblem) return kept(err.message);
    throw err;
  }
}
