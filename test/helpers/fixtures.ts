import { readFileSync } from "node:fs";
import { CAPTURES, captureBytes, capturePath } from "./captures.js";

/**
 * Named fixtures for tests outside the protocol table. The bytes live in the capture table
 * (test/fixtures/captures/<model>/, see captures.ts); these names are kept for existing imports.
 */

/** Root of the capture table (was test/fixtures/samples; `join(SAMPLES, UPLOAD_FILE)` still works). */
export const SAMPLES = CAPTURES;

/** A capture's bytes by `<model>/<file>` or by its old flat file name. */
export function sampleBytes(name: string): Buffer {
  return captureBytes(name);
}

/** A capture's provenance JSON (`<name>.source.json`), by the capture's name or the old `.json` name. */
export function sampleJson<T = Record<string, unknown>>(name: string): T {
  const path = capturePath(name.replace(/(\.source)?\.json$/, "")).replace(
    /\.(txt|bin)$/,
    ".source.json",
  );
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** The real 2024 ECU-R upload, exactly as on the wire (302 bytes + LF). */
export const UPLOAD_FILE = "ecu-r-2160/ecu-r_2160_upload_2inv_20240206.txt";
export const uploadWire = (): Buffer => sampleBytes(UPLOAD_FILE);
/** The same frame without its LF, as the framer delivers it. */
export const uploadFrame = (): Buffer => uploadWire().subarray(0, -1);

export const UPLOAD_ANSWER = "10120240206112214";
export const ECU_ID = "216000064136";

/** The 80-byte download query, completed from the captured first 17 bytes per §8. */
export function firmwareQuery(path: string): Buffer {
  const head = sampleBytes("ecu-r_2160_port9220_ecu11_req_0001_0001_first17bytes.txt");
  const pathField = Buffer.alloc(60);
  pathField.write(path, "latin1");
  return Buffer.concat([head, pathField, Buffer.from("END")]);
}

/** A 100-inverter upload from the sample's records: 9,000+ bytes, length field `09xxx`-style. */
export function bigUpload(inverters = 100): string {
  const text = uploadFrame().toString("latin1");
  const records = [text.slice(86, 86 + 88), text.slice(86 + 88)];
  let body = "";
  for (let i = 0; i < inverters; i++) {
    const rec = records[i % 2] ?? "";
    body += rec.slice(0, 3) + String(1000000000 + i).slice(1) + rec.slice(12);
  }
  const header = text
    .slice(10, 86)
    .replace("002000000END", `${String(inverters).padStart(3, "0")}000000END`);
  const length = 10 + header.length + body.length;
  return `APS18${String(length).padStart(5, "A")}${header}${body}`;
}
