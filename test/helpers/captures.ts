import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { answerFor } from "../../src/protocol/answers/answerFor.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import { Framer } from "../../src/protocol/framer.js";

/**
 * The capture table: `test/fixtures/captures/<model>/<name>.txt|.bin` holds bytes exactly as on
 * the wire, `<name>.decoded.jsonl` what the proxy makes of them (one line per framed message)
 * and `<name>.answers.jsonl` what it answers (one line per message; absent = answers nothing).
 * See captures/README.md.
 */

export const CAPTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "captures");

const RAW = /\.(txt|bin)$/;
/** Large enough for any upload an ECU can build, as `ecu-proxy decode` uses. */
const MAX_FRAME = 1024 * 1024;

export interface Capture {
  /** `<model>/<file name without extension>`, e.g. `ecu-r-2160/ecu-r_2160_upload_2inv_20240206`. */
  name: string;
  /** The folder: ECU model and id prefix, or `synthetic`. */
  model: string;
  /** Path of the raw bytes. */
  path: string;
  bytes: Buffer;
  /** Made up or derived here, not seen on any wire (folder `synthetic/`). */
  synthetic: boolean;
}

/** What the proxy makes of one framed message (or of bytes it could not frame). */
export type ReplayEntry =
  | Record<string, unknown>
  | { type: "framing_error"; code: string; detail: string; discarded: number; fatal: boolean }
  | { type: "incomplete"; bytes: number };

export interface Replay {
  decoded: ReplayEntry[];
  /** The answer to each entry as latin1 text, or null when the proxy answers nothing. */
  answers: (string | null)[];
}

function rawFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return rawFiles(path);
      return RAW.test(entry) ? [path] : [];
    });
}

function toCapture(path: string): Capture {
  const model = basename(dirname(path));
  return {
    name: `${model}/${basename(path).replace(RAW, "")}`,
    model,
    path,
    bytes: readFileSync(path),
    synthetic: model === "synthetic",
  };
}

/** Every capture, in a stable order. Adding a capture = adding its files. */
export function listCaptures(): Capture[] {
  return rawFiles(CAPTURES).map(toCapture);
}

/**
 * Path of a capture's raw file by `<model>/<name>` (extension optional) or, for the names the
 * fixtures had before the captures table (`ecu-r_2160_upload_2inv_20240206.txt`,
 * `other/optimizer-ecu_…txt`), by its file name alone.
 */
export function capturePath(name: string): string {
  const direct = join(CAPTURES, name);
  if (RAW.test(name) && existsSync(direct)) return direct;
  for (const ext of [".txt", ".bin"]) {
    if (existsSync(direct + ext)) return direct + ext;
  }
  const file = basename(name);
  const hit = rawFiles(CAPTURES).find(
    (p) => basename(p) === file || basename(p).replace(RAW, "") === file,
  );
  if (!hit) throw new Error(`no capture named '${name}' under ${CAPTURES}`);
  return hit;
}

export function captureBytes(name: string): Buffer {
  return readFileSync(capturePath(name));
}

/** A capture's companion file (`.source.json`, `.md`, …) by the capture's name. */
export function captureCompanion(name: string, suffix: string): string {
  return capturePath(name).replace(RAW, suffix);
}

/** JSON as the decoder's objects serialise (`ecu-proxy decode` prints the same). */
const plain = (value: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

/** Feeds the chunks to one framer, as a server connection would, and decodes and answers each frame. */
export function replay(chunks: Buffer[]): Replay {
  const framer = new Framer(MAX_FRAME);
  const out: Replay = { decoded: [], answers: [] };
  for (const chunk of chunks) {
    for (const event of framer.push(chunk)) {
      if (event.kind === "error") {
        const { code, detail, discarded, fatal } = event;
        out.decoded.push({ type: "framing_error", code, detail, discarded, fatal });
        out.answers.push(null);
        continue;
      }
      const message = decodeFrame(event.frame);
      out.decoded.push(plain(message));
      const answer = message.type === "error" ? null : answerFor(message);
      out.answers.push(answer ? answer.toString("latin1") : null);
    }
  }
  if (framer.buffered > 0) {
    out.decoded.push({ type: "incomplete", bytes: framer.buffered });
    out.answers.push(null);
  }
  return out;
}

const jsonl = (lines: unknown[]): string => lines.map((l) => `${JSON.stringify(l)}\n`).join("");

/** The expected files' text for a replay (the update mode of the capture test writes these). */
export function expectedFiles(result: Replay): { decoded: string; answers: string | null } {
  const answered = result.answers.some((a) => a !== null);
  return { decoded: jsonl(result.decoded), answers: answered ? jsonl(result.answers) : null };
}

export function readExpected(capture: Capture): Replay {
  const read = (suffix: string) => {
    const path = capture.path.replace(RAW, suffix);
    if (!existsSync(path)) return undefined;
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as unknown);
  };
  const decoded = read(".decoded.jsonl");
  if (!decoded) {
    throw new Error(
      `${capture.name}: no .decoded.jsonl (run the capture test with UPDATE_CAPTURES=1)`,
    );
  }
  const answers = read(".answers.jsonl") ?? decoded.map(() => null);
  return { decoded: decoded as ReplayEntry[], answers: answers as (string | null)[] };
}
