import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "samples");

export function sampleBytes(name: string): Buffer {
  return readFileSync(join(SAMPLES, name));
}

export function sampleJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(SAMPLES, name), "utf8")) as T;
}

/** The real 2024 ECU-R upload, exactly as on the wire (302 bytes + LF). */
export const UPLOAD_FILE = "ecu-r_2160_upload_2inv_20240206.txt";
export const uploadWire = (): Buffer => sampleBytes(UPLOAD_FILE);
/** The same frame without its LF, as the framer delivers it. */
export const uploadFrame = (): Buffer => uploadWire().subarray(0, -1);

export const UPLOAD_ANSWER = "10120240206112214";
export const ECU_ID = "216000064136";
