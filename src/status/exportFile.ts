import { decodeFrame } from "../protocol/decode.js";
import type { CaptureEntry } from "./captures.js";
import { IdMasker } from "./mask.js";

/**
 * The downloadable capture file: JSON lines. Line 1 is a header naming the format; every
 * further line is one frame with what the proxy knew about it. Frames that are printable ASCII
 * (all APS frames) are stored as text so the file is readable in an issue; binary ones (ECU11 on
 * port 9220) as base64. `ecu-proxy decode FILE` recognises the header and decodes every frame.
 */
export const CAPTURE_FORMAT = "apsystems-ecu-proxy-captures";
export const CAPTURE_FORMAT_VERSION = 1;

export interface ExportHeader {
  format: typeof CAPTURE_FORMAT;
  version: number;
  exportedAt: string;
  generator: string;
  masked: boolean;
  count: number;
  note: string;
}

export interface ExportLine {
  at: string;
  port: number;
  ecu: string | null;
  type: string;
  kind: string;
  reason: string;
  detail?: string;
  frame?: string;
  frameBase64?: string;
  answer?: string;
  answerBase64?: string;
}

const PRINTABLE = /^[\x20-\x7e]*$/;
const ECU_ID = /^[0-9]{12}$/;

/**
 * The ECU id where every APS frame carries it (offset 18; offset 10 in the short nightly sync
 * request, §5) or in the JSON form's EID — found even when the rest of the frame does not decode
 * (a new firmware's length field, say), so that such frames are masked too.
 */
function ecuIdByPosition(frame: Buffer): string | undefined {
  const text = frame.toString("latin1");
  if (text.startsWith("APS")) {
    for (const candidate of [text.slice(18, 30), text.slice(10, 22)]) {
      if (ECU_ID.test(candidate)) return candidate;
    }
  }
  return /"EID"\s*:\s*"([0-9]{12})"/.exec(text)?.[1];
}

/** Every ECU and inverter id the proxy can find in the captures, by decoding them. */
function collectIds(entries: CaptureEntry[]): { ecus: Set<string>; inverters: Set<string> } {
  const ecus = new Set<string>();
  const inverters = new Set<string>();
  for (const entry of entries) {
    if (entry.ecuId) ecus.add(entry.ecuId);
    const frame = Buffer.from(entry.frame, "base64");
    const positional = ecuIdByPosition(frame);
    if (positional) ecus.add(positional);
    const m = decodeFrame(frame);
    if (m.type === "upload") {
      ecus.add(m.ecu.id);
      for (const inv of m.inverters) inverters.add(inv.uid);
    } else if (m.type === "status_report") {
      for (const s of m.statuses) inverters.add(s.uid);
    }
    if ("ecuId" in m && m.ecuId) ecus.add(m.ecuId);
  }
  return { ecus, inverters };
}

function bytesField(data: Buffer, text: "frame" | "answer"): Partial<ExportLine> {
  const latin1 = data.toString("latin1");
  return PRINTABLE.test(latin1)
    ? { [text]: latin1 }
    : { [`${text}Base64`]: data.toString("base64") };
}

/** The masked export of `entries` (oldest first), ready to attach to a bug report. */
export function buildExport(entries: CaptureEntry[], generator: string, now = Date.now()): string {
  const { ecus, inverters } = collectIds(entries);
  const masker = new IdMasker(ecus, inverters);
  const header: ExportHeader = {
    format: CAPTURE_FORMAT,
    version: CAPTURE_FORMAT_VERSION,
    exportedAt: new Date(now).toISOString(),
    generator,
    masked: true,
    count: entries.length,
    note:
      "ECU and inverter ids are replaced by fake ids that keep their model prefix (one fake per " +
      "real id); source addresses are left out. Ids inside frames the proxy cannot decode are " +
      "masked only where the same id appeared in a decoded frame. Read back with: ecu-proxy decode FILE",
  };
  const lines = [JSON.stringify(header)];
  for (const entry of entries) {
    const line: ExportLine = {
      at: new Date(entry.at).toISOString(),
      port: entry.port,
      ecu: entry.ecuId ? masker.fakeFor(entry.ecuId) : null,
      type: entry.type,
      kind: masker.mask(entry.kind),
      reason: entry.reason,
      ...(entry.detail !== undefined ? { detail: masker.mask(entry.detail) } : {}),
      ...bytesField(masker.maskBuffer(Buffer.from(entry.frame, "base64")), "frame"),
      ...(entry.answer !== null
        ? bytesField(masker.maskBuffer(Buffer.from(entry.answer, "base64")), "answer")
        : {}),
    };
    lines.push(JSON.stringify(line));
  }
  return `${lines.join("\n")}\n`;
}

export interface ExportedFrame {
  /** 1-based line number in the file, for messages about it. */
  line: number;
  frame: Buffer;
  meta: ExportLine;
}

/**
 * The frames of a capture export, or undefined when `data` is not one (then it is a plain
 * capture: one message per line). Lines that are not frames are reported, not skipped silently.
 */
export function readExport(
  data: Buffer,
): { frames: ExportedFrame[]; problems: string[] } | undefined {
  const text = data.toString("utf8");
  const firstEnd = text.indexOf("\n");
  const first = firstEnd === -1 ? text : text.slice(0, firstEnd);
  if (!first.includes(CAPTURE_FORMAT)) return undefined;
  let header: Partial<ExportHeader>;
  try {
    header = JSON.parse(first) as Partial<ExportHeader>;
  } catch {
    return undefined;
  }
  if (header.format !== CAPTURE_FORMAT) return undefined;
  const frames: ExportedFrame[] = [];
  const problems: string[] = [];
  if (header.version !== CAPTURE_FORMAT_VERSION) {
    problems.push(`capture file version ${header.version} is not ${CAPTURE_FORMAT_VERSION}`);
  }
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]?.trim();
    if (!raw) continue;
    try {
      const meta = JSON.parse(raw) as ExportLine;
      const frame =
        typeof meta.frame === "string"
          ? Buffer.from(meta.frame, "latin1")
          : typeof meta.frameBase64 === "string"
            ? Buffer.from(meta.frameBase64, "base64")
            : undefined;
      if (!frame) problems.push(`line ${i + 1}: no frame`);
      else frames.push({ line: i + 1, frame, meta });
    } catch (err) {
      problems.push(`line ${i + 1}: not JSON: ${(err as Error).message}`);
    }
  }
  return { frames, problems };
}
