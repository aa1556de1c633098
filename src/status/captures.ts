import { AtomicFile, readIfExists } from "../atomicFile.js";
import type { Logger } from "../log.js";
import { readControlAnswer } from "../protocol/answers/controlPoll.js";
import { type Exchange, ecuIdOf as exchangeEcuId } from "../proxy/exchange.js";
import { plainAddress } from "./access.js";

/**
 * Why a frame was kept: `sample` = the latest frame of its kind from this ECU (replaced by the
 * next one); `undecodable` / `unanswered` = every such frame, because those are what support
 * for a new ECU model or firmware is built from (protocol.md §13); `control` = every command
 * sent to an ECU (option inverter_control) and every acknowledgement and report it sent back,
 * which is how a real ECU's answers to them get reported (issue 19).
 */
export type CaptureReason = "sample" | "undecodable" | "unanswered" | "control";

export interface CaptureEntry {
  seq: number;
  /** Epoch ms. */
  at: number;
  port: number;
  remote: string;
  ecuId: string | null;
  type: string;
  /** `upload`, `control_poll`, an unknown kind such as `APS16`, or `error/<code>`. */
  kind: string;
  reason: CaptureReason;
  detail?: string;
  /** The frame as received (base64: frames on port 9220 are binary). */
  frame: string;
  answer: string | null;
}

/** What the page lists: everything but the bytes. */
export type CaptureListItem = Omit<CaptureEntry, "frame" | "answer"> & {
  bytes: number;
  answered: boolean;
};

export interface CaptureStoreConfig {
  /** The JSON-lines file the captures live in (under the data directory). */
  file: string;
  /** Bound of that file (option capture_max_kib × 1024); the oldest entries go first. */
  maxBytes: number;
  logger: Logger;
}

/** At most one rewrite of the captures file per this interval (it can be ~1 MiB). */
const SAVE_INTERVAL_MS = 5000;

function kindOf(ex: Exchange): string {
  const m = ex.message;
  switch (m.type) {
    case "error":
      return `error/${m.code}`;
    case "unknown":
      return m.kind;
    case "upload":
      if (m.fillUp) return "upload/fill-up";
      // Its own kind, so the latest such upload is kept beside the plain ones for its owner to
      // send: the raw record is what its real layout will be learnt from.
      return m.inverters.some((inv) => inv.layoutInferred) ? "upload/layout-inferred" : "upload";
    default:
      return m.type;
  }
}

/** A command the proxy sent in answer to a poll, or the ECU's acknowledgement or A117 report. */
function isControl(ex: Exchange): boolean {
  const m = ex.message;
  if (m.type === "control_ack" || m.type === "max_power_report") return true;
  if (m.type !== "control_poll" || ex.answer === null) return false;
  const read = readControlAnswer(ex.answer, m.ecuId);
  return "command" in read && read.command !== "A100";
}

/**
 * Keeps raw frames for bug reports, bounded on disk. Entries are held in memory in arrival
 * order together with their serialised size, so the bound is checked without touching the
 * disk; the file is rewritten (atomically, coalesced) after changes.
 */
export class CaptureStore {
  private entries: Array<{ entry: CaptureEntry; line: string; size: number }> = [];
  private bytes = 0;
  private seq = 0;
  private readonly file: AtomicFile;
  private readonly log: Logger;

  constructor(private readonly config: CaptureStoreConfig) {
    this.log = config.logger.child({ module: "captures" });
    this.file = new AtomicFile(this.config.file, {
      onError: (err, what) => this.log.warn({ err }, `cannot ${what} captures`),
      minIntervalMs: SAVE_INTERVAL_MS,
    });
    this.load();
  }

  handleExchange(ex: Exchange): void {
    const m = ex.message;
    const reason: CaptureReason =
      m.type === "error"
        ? "undecodable"
        : isControl(ex)
          ? "control"
          : ex.answer === null
            ? "unanswered"
            : "sample";
    const ecuId = exchangeEcuId(ex) ?? null;
    const kind = kindOf(ex);
    const entry: CaptureEntry = {
      seq: ++this.seq,
      at: ex.receivedAt,
      port: ex.port,
      remote: plainAddress(ex.remote),
      ecuId,
      type: m.type,
      kind,
      reason,
      frame: ex.frame.toString("base64"),
      answer: ex.answer?.toString("base64") ?? null,
    };
    if (m.type === "error") entry.detail = m.detail;
    if (reason === "sample") {
      // One sample per kind and ECU (or per address for frames without an ECU id).
      const owner = ecuId ?? `@${entry.remote}`;
      this.remove(
        (e) => e.reason === "sample" && e.kind === kind && (e.ecuId ?? `@${e.remote}`) === owner,
      );
    }
    this.add(entry);
    void this.file.write(() => this.entries.map((e) => e.line).join(""));
  }

  list(): CaptureListItem[] {
    return this.entries.map(({ entry: { frame, answer, ...rest } }) => ({
      ...rest,
      bytes: Buffer.byteLength(frame, "base64"),
      answered: answer !== null,
    }));
  }

  all(): CaptureEntry[] {
    return this.entries.map((e) => e.entry);
  }

  summary(): { count: number; bytes: number; maxBytes: number } {
    return { count: this.entries.length, bytes: this.bytes, maxBytes: this.config.maxBytes };
  }

  /** Resolves when the file on disk holds every capture taken so far. */
  flush(): Promise<void> {
    return this.file.flush();
  }

  private add(entry: CaptureEntry): void {
    const line = `${JSON.stringify(entry)}\n`;
    const size = Buffer.byteLength(line);
    if (size > this.config.maxBytes) {
      this.log.warn(
        { bytes: size, kind: entry.kind },
        "frame larger than capture_max_kib, not kept",
      );
      return;
    }
    this.entries.push({ entry, line, size });
    this.bytes += size;
    let dropped = 0;
    while (this.bytes > this.config.maxBytes) {
      const oldest = this.entries.shift();
      if (!oldest) break;
      this.bytes -= oldest.size;
      dropped++;
    }
    if (dropped > 0) this.log.debug({ dropped }, "oldest captures dropped (capture_max_kib)");
  }

  private remove(match: (e: CaptureEntry) => boolean): void {
    const kept = this.entries.filter((e) => !match(e.entry));
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.bytes = kept.reduce((sum, e) => sum + e.size, 0);
  }

  private load(): void {
    const text = readIfExists(this.config.file);
    if (!text) return;
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as CaptureEntry;
        if (typeof entry.frame !== "string" || typeof entry.kind !== "string") continue;
        this.seq = Math.max(this.seq, entry.seq);
        // add() applies the bound again, so a lowered capture_max_kib takes effect at start.
        this.add(entry);
      } catch {
        // A damaged line (power cut during an older, non-atomic write) costs only that line.
      }
    }
  }
}
