import { lengthField } from "./frameLength.js";
import {
  APS_HEADER,
  END,
  type Span,
  UPLOAD_COMMAND,
  UPLOAD_SECTION,
  UPLOAD_SECTION_LENGTH,
} from "./header.js";
import type { InverterLayout, NumberField } from "./layouts/fields.js";
import { INVERTER_LAYOUTS } from "./layouts/index.js";

/**
 * Builds APS18 uploads for `ecu-proxy simulate`, the benchmark and tests. Every offset, width
 * and scale comes from the decoder's own tables (header.ts, layouts/), so what is
 * built here is by construction what the decoder reads; the decoder never depends on this file.
 */

export interface ChannelReading {
  dcVoltageV: number;
  dcCurrentA: number;
  energyWh: number;
  powerW: number;
}

export interface InverterReading {
  uid: string;
  /** EMA type code; selects the record layout from INVERTER_LAYOUTS (`07`, `08`, `03`, …). */
  typeCode: string;
  acVoltageV: number;
  frequencyHz: number;
  temperatureC: number;
  /** Grid voltage per phase for 3-phase layouts (type 04); default `acVoltageV` on each. */
  phaseVoltagesV?: number[];
  /** Active-power digits as sent; default simulated from the DC power (see below). */
  activePowerRaw?: string;
  channels: ChannelReading[];
}

export interface UploadReading {
  ecuId: string;
  /** `YYYYMMDDhhmmss`, ECU local time. */
  timestamp: string;
  lifetimeEnergyKWh: number;
  inverters: InverterReading[];
  /** Header power, W; default the sum of the channel powers. */
  powerW?: number;
  /**
   * How the header power is written (protocol.md §3.1): plain W as the 2024 ECU-R capture has
   * it (the default), or W × 100 as the Linux (FW-ECU3) and 2017/18 firmware write it.
   */
  powerEncoding?: "W" | "Wx100";
  /** Header energy of this round, kWh; zero on the 2024 ECU-R capture (the default). */
  roundEnergyKWh?: number;
  /** Header count of inverters online; default the number of records. */
  invertersOnline?: number;
}

/**
 * Active power as the capture has it: ≈ 0.94 × DC power, written ×100 by type 07 and ×10 by
 * type 08 (§3.2). Simulation only — the decoder keeps these digits raw (scale unconfirmed, U5).
 */
const ACTIVE_POWER_SCALE: Readonly<Record<string, number>> = { "07": 100, "08": 10 };

/** A fixed-width line filled with `0`, written field by field at the tables' offsets. */
class Line {
  private readonly chars: string[];

  constructor(length: number) {
    this.chars = new Array<string>(length).fill("0");
  }

  text(offset: number, width: number, value: string): void {
    if (value.length !== width) {
      throw new RangeError(`'${value}' does not fill the ${width} chars at offset ${offset}`);
    }
    for (let i = 0; i < width; i++) this.chars[offset + i] = value.charAt(i);
  }

  span(span: Span, value: string): void {
    this.text(span.offset, span.width, value);
  }

  /** A non-negative integer, zero-padded; `shown` is the reading it came from, for errors. */
  digits(offset: number, width: number, value: number, name: string, shown = value): void {
    const digits = String(Math.round(value));
    if (!(value >= 0) || digits.length > width) {
      throw new RangeError(`${name} ${shown} does not fit the ${width}-digit field`);
    }
    this.text(offset, width, digits.padStart(width, "0"));
  }

  /** A scaled field: the real value × its divisor (NumberField's wire rule). */
  scaled(base: number, field: NumberField, value: number, name: string): void {
    this.digits(base + field.offset, field.width, value * field.divisor, name, value);
  }

  toString(): string {
    return this.chars.join("");
  }
}

/** `A`-padded, `B` for negative (the YC250/YC500 temperature field, §3.2). */
function signedText(value: number, width: number): string {
  const digits = String(Math.abs(Math.round(value)));
  return `${value < 0 ? "B" : ""}${digits}`.padStart(width, "A");
}

function layoutOf(typeCode: string): InverterLayout {
  const layout = INVERTER_LAYOUTS[typeCode];
  if (!layout) throw new RangeError(`no record layout for type code '${typeCode}'`);
  return layout;
}

/** One inverter record with its `END`, laid out by INVERTER_LAYOUTS[typeCode]. */
export function encodeInverterRecord(inv: InverterReading): string {
  const layout = layoutOf(inv.typeCode);
  if (inv.channels.length !== layout.channels.length) {
    throw new RangeError(`type ${inv.typeCode} needs ${layout.channels.length} channels`);
  }
  const line = new Line(layout.length);
  line.text(0, 12, inv.uid);
  line.text(12, 2, inv.typeCode);
  if (layout.acVoltage) line.scaled(0, layout.acVoltage, inv.acVoltageV, "AC voltage");
  layout.phaseVoltages?.forEach((field, i) => {
    line.scaled(0, field, inv.phaseVoltagesV?.[i] ?? inv.acVoltageV, `phase ${i + 1} voltage`);
  });
  line.scaled(0, layout.frequency, inv.frequencyHz, "frequency");
  const t = layout.temperature;
  if (t.encoding === "plus100") line.digits(t.offset, t.width, inv.temperatureC + 100, "temp");
  else line.text(t.offset, t.width, signedText(inv.temperatureC, t.width));
  if (layout.dcVoltage) {
    line.scaled(0, layout.dcVoltage, inv.channels[0]?.dcVoltageV ?? 0, "DC voltage");
  }
  if (layout.activePower) {
    const { offset, width } = layout.activePower;
    if (inv.activePowerRaw !== undefined) line.text(offset, width, inv.activePowerRaw);
    else {
      const dc = inv.channels.reduce((sum, ch) => sum + ch.powerW, 0);
      const scale = ACTIVE_POWER_SCALE[inv.typeCode] ?? 100;
      line.digits(offset, width, dc * 0.94 * scale, "active power");
    }
  }
  layout.channels.forEach((block, i) => {
    const ch = inv.channels[i] as ChannelReading;
    line.text(block.offset, 1, block.marker);
    if (block.dcVoltage) line.scaled(block.offset, block.dcVoltage, ch.dcVoltageV, "DC voltage");
    line.scaled(block.offset, block.dcCurrent, ch.dcCurrentA, "DC current");
    line.scaled(block.offset, block.energy, ch.energyWh, "energy");
    line.scaled(block.offset, block.power, ch.powerW, "power");
  });
  return `${line.toString()}${END}`;
}

/** The frame without its trailing LF, laid out by APS_HEADER and UPLOAD_SECTION. */
export function encodeUpload(reading: UploadReading): string {
  const channelSum = reading.inverters
    .flatMap((inv) => inv.channels)
    .reduce((sum, ch) => sum + ch.powerW, 0);
  const powerW = reading.powerW ?? channelSum;
  const body = reading.inverters.map(encodeInverterRecord).join("");
  const s = UPLOAD_SECTION;
  const line = new Line(UPLOAD_SECTION_LENGTH);
  line.span(APS_HEADER.magic, "APS");
  line.span(APS_HEADER.version, "18");
  line.span(APS_HEADER.length, lengthField(UPLOAD_SECTION_LENGTH + body.length, "APS", "A"));
  line.span(APS_HEADER.command, UPLOAD_COMMAND.slice(0, APS_HEADER.command.width));
  line.span(APS_HEADER.sequence, UPLOAD_COMMAND.slice(APS_HEADER.command.width));
  line.span(APS_HEADER.ecuId, reading.ecuId);
  const powerScale = reading.powerEncoding === "Wx100" ? 100 : 1;
  line.digits(s.power.offset, s.power.width, powerW * powerScale, "header power");
  line.scaled(0, s.roundEnergy, reading.roundEnergyKWh ?? 0, "round energy");
  line.scaled(0, s.lifetimeEnergy, reading.lifetimeEnergyKWh, "lifetime energy");
  line.span(s.timestamp, reading.timestamp);
  const online = reading.invertersOnline ?? reading.inverters.length;
  line.digits(s.inverterCount.offset, s.inverterCount.width, online, "inverter count");
  line.span(s.timezoneFlag, "0");
  line.span(s.end, END);
  return `${line.toString()}${body}`;
}
