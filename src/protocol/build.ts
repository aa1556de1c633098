import { UPLOAD_COMMAND } from "./header.js";

/**
 * Builds APS18 uploads in the 2024 ECU-R encoding (plain-W power, 'A'-padded length). Used by
 * `ecu-proxy simulate`, the benchmark and tests; the decoder never depends on it.
 */

export interface ChannelReading {
  dcVoltageV: number;
  dcCurrentA: number;
  energyWh: number;
  powerW: number;
}

export interface InverterReading {
  uid: string;
  /** `07` (2 inputs) or `08` (4 inputs). */
  typeCode: "07" | "08";
  acVoltageV: number;
  frequencyHz: number;
  temperatureC: number;
  channels: ChannelReading[];
}

export interface UploadReading {
  ecuId: string;
  /** `YYYYMMDDhhmmss`, ECU local time. */
  timestamp: string;
  lifetimeEnergyKWh: number;
  inverters: InverterReading[];
}

function pad(value: number, width: number): string {
  const text = String(Math.max(0, Math.round(value)));
  if (text.length > width) throw new RangeError(`${value} does not fit in ${width} digits`);
  return text.padStart(width, "0");
}

export function encodeInverterRecord(inv: InverterReading): string {
  const expected = inv.typeCode === "07" ? 2 : 4;
  if (inv.channels.length !== expected) {
    throw new RangeError(`type ${inv.typeCode} needs ${expected} channels`);
  }
  const dcPower = inv.channels.reduce((sum, ch) => sum + ch.powerW, 0);
  // Active power: the firmware's 0.94 × DC power, ×100 for type 07 and ×10 for 08 (§3.2).
  const active = inv.typeCode === "07" ? dcPower * 0.94 * 100 : dcPower * 0.94 * 10;
  const head =
    inv.uid +
    inv.typeCode +
    pad(inv.acVoltageV, 3) +
    pad(inv.frequencyHz * 10, 5) +
    pad(inv.temperatureC + 100, 3) +
    pad(0, 5) +
    pad(active, 5) +
    pad(0, 10);
  const blocks = inv.channels.map(
    (ch, i) =>
      String(i + 1) +
      pad(ch.dcVoltageV * 10, 5) +
      pad(ch.dcCurrentA * 10, 3) +
      pad(ch.energyWh * 1000, 6) +
      pad(ch.powerW * 100, 5),
  );
  return `${head}${blocks.join("")}END`;
}

/** The frame without its trailing LF. */
export function encodeUpload(reading: UploadReading): string {
  const power = reading.inverters
    .flatMap((inv) => inv.channels)
    .reduce((sum, ch) => sum + ch.powerW, 0);
  const body = reading.inverters.map(encodeInverterRecord).join("");
  const section =
    UPLOAD_COMMAND +
    reading.ecuId +
    pad(power, 10) +
    pad(0, 10) +
    pad(reading.lifetimeEnergyKWh * 10, 10) +
    reading.timestamp +
    pad(reading.inverters.length, 3) +
    "0" +
    "00000" +
    "END";
  const length = 10 + section.length + body.length;
  return `APS18${String(length).padStart(5, "A")}${section}${body}`;
}
