import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { uploadAnswer } from "../src/protocol/answers/uploadAck.js";
import { encodeUpload, type InverterReading } from "../src/protocol/build.js";

/** Repository root (this file is in bench/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The real 2024 ECU-R capture (2 inverters), as on the wire: 302 bytes + LF. */
export function realUploadWire(): Buffer {
  return readFileSync(
    join(ROOT, "test", "fixtures", "captures", "ecu-r-2160", "ecu-r_2160_upload_2inv_20240206.txt"),
  );
}

/** The answer EMA gives (and the proxy must give) to the real capture. */
export const REAL_UPLOAD_ANSWER = Buffer.from("10120240206112214", "latin1");

/** `YYYYMMDDhhmmss` of a Date in UTC (the proxy runs with TZ unset or UTC in the bench). */
export function ecuTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export interface GeneratedUpload {
  /** Frame + LF, ready to write to a socket. */
  wire: Buffer;
  /** The frame without LF, as the decoder takes it. */
  frame: Buffer;
  answer: Buffer;
  ecuId: string;
  uids: string[];
}

/** A distinct ECU-R id per index (prefix 2160 → ECU-R). */
export const ecuIdFor = (index: number): string => `2160${String(index).padStart(8, "0")}`;

/**
 * An upload from ECU `ecuIndex` with `inverters` YC600s (type 07) whose uids are unique across
 * ECUs, at `timestamp`. `round` varies the readings so each upload carries new values.
 */
export function generatedUpload(
  ecuIndex: number,
  inverters: number,
  timestamp: string,
  round = 0,
): GeneratedUpload {
  const ecuId = ecuIdFor(ecuIndex);
  const readings: InverterReading[] = [];
  for (let i = 0; i < inverters; i++) {
    const uid = `408${String(ecuIndex * 1000 + i).padStart(9, "0")}`;
    const power = 10 + ((round * 7 + i) % 300);
    readings.push({
      uid,
      typeCode: "07",
      acVoltageV: 228 + (i % 5),
      frequencyHz: 50,
      temperatureC: 13 + (i % 20),
      channels: [
        { dcVoltageV: 33.8, dcCurrentA: 0.5, energyWh: 1.409, powerW: power },
        { dcVoltageV: 34.1, dcCurrentA: 0.6, energyWh: 1.52, powerW: power + 1 },
      ],
    });
  }
  const text = encodeUpload({
    ecuId,
    timestamp,
    lifetimeEnergyKWh: 2000 + round,
    inverters: readings,
  });
  const frame = Buffer.from(text, "latin1");
  return {
    wire: Buffer.from(`${text}\n`, "latin1"),
    frame,
    answer: uploadAnswer(timestamp),
    ecuId,
    uids: readings.map((r) => r.uid),
  };
}

/**
 * Uploads as ECUs really send them: ECU `firstEcu + i` (its own id, two inverters like the
 * capture) a new round each time, one second after its previous one.
 */
export function newRounds(firstEcu = 300): (ecu: number) => { upload: Buffer; answer: Buffer } {
  const start = Date.UTC(2024, 1, 7, 6, 0, 0);
  const sent = new Map<number, number>();
  return (ecu) => {
    const n = sent.get(ecu) ?? 0;
    sent.set(ecu, n + 1);
    const upload = generatedUpload(firstEcu + ecu, 2, ecuTimestamp(new Date(start + n * 1000)), n);
    return { upload: upload.wire, answer: upload.answer };
  };
}
