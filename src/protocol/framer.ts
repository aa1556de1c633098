import { declaredLength, type LengthFramed, lengthFieldText, lengthPrefix } from "./frameLength.js";

/**
 * Turns a TCP byte stream into complete frames, whatever the segmentation: one byte at a time,
 * several frames per segment, frames of any size up to `maxBytes`. Pure state, no I/O.
 *
 * - `APS…` frames are delimited by their 5-char length field (which excludes the LF the ECU
 *   appends); an LF before the declared length means the length field is wrong.
 * - `ECU11…` frames (binary, port 9220) by their 4-digit total length.
 * - `{…}` JSON frames (newer firmware's sync request) by LF.
 * - Anything else is garbage, skipped up to the next LF or frame start and reported once.
 */

export type FramerErrorCode = "bad_magic" | "bad_length" | "too_large";

export type FrameEvent =
  | { kind: "frame"; frame: Buffer }
  | {
      kind: "error";
      code: FramerErrorCode;
      detail: string;
      /** Bytes dropped. */
      discarded: number;
      /** The stream cannot be resynchronised within the size limit: close the connection. */
      fatal: boolean;
    };

const LF = 0x0a;
const CR = 0x0d;
const MAGICS = [Buffer.from("APS"), Buffer.from("ECU"), Buffer.from("{")];

interface Discarding {
  code: FramerErrorCode;
  detail: string;
}

export class Framer {
  private store: Buffer;
  private start = 0;
  private end = 0;
  private discarding: Discarding | undefined;
  private discarded = 0;

  constructor(private readonly maxBytes: number) {
    this.store = Buffer.allocUnsafe(Math.min(4096, maxBytes + 16));
  }

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Buffer): FrameEvent[] {
    this.append(chunk);
    const events: FrameEvent[] = [];
    for (;;) {
      const event = this.next();
      if (!event) break;
      events.push(event);
      if (event.kind === "error" && event.fatal) {
        this.reset();
        break;
      }
    }
    this.compact();
    return events;
  }

  reset(): void {
    this.start = 0;
    this.end = 0;
    this.discarding = undefined;
    this.discarded = 0;
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.store.length) {
      const live = this.end - this.start;
      const size = Math.max(this.store.length * 2, live + chunk.length);
      const grown = Buffer.allocUnsafe(size);
      this.store.copy(grown, 0, this.start, this.end);
      this.store = grown;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }

  /** Frees space once the store is mostly consumed, so a long-lived connection stays small. */
  private compact(): void {
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      if (this.store.length > 65536) this.store = Buffer.allocUnsafe(4096);
    } else if (this.start > this.store.length / 2) {
      this.store.copy(this.store, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }

  private view(): Buffer {
    return this.store.subarray(this.start, this.end);
  }

  private take(length: number): Buffer {
    const frame = Buffer.from(this.store.subarray(this.start, this.start + length));
    this.start += length;
    return frame;
  }

  private drop(length: number): void {
    this.start += length;
  }

  /** Index of the next LF or frame start after position 0, or -1. */
  private resyncPoint(data: Buffer): { index: number; lf: boolean } | undefined {
    const lf = data.indexOf(LF);
    let best = lf === -1 ? Number.POSITIVE_INFINITY : lf;
    let isLf = lf !== -1;
    for (const magic of MAGICS) {
      const at = data.indexOf(magic, 1);
      if (at !== -1 && at < best) {
        best = at;
        isLf = false;
      }
    }
    return Number.isFinite(best) ? { index: best, lf: isLf } : undefined;
  }

  private discardError(extra: number): FrameEvent {
    const discarding = this.discarding ?? { code: "bad_magic" as const, detail: "" };
    const event: FrameEvent = {
      kind: "error",
      code: discarding.code,
      detail: discarding.detail,
      discarded: this.discarded + extra,
      fatal: false,
    };
    this.discarding = undefined;
    this.discarded = 0;
    return event;
  }

  private next(): FrameEvent | undefined {
    // LF/CR between frames are the ECU's own line ends.
    while (!this.discarding && this.start < this.end) {
      const b = this.store[this.start];
      if (b !== LF && b !== CR) break;
      this.start++;
    }
    const data = this.view();
    if (data.length === 0) return undefined;

    if (this.discarding) return this.continueDiscarding(data);

    const first = data[0];
    if (first === 0x41 /* A */) return this.apsFrame(data);
    if (first === 0x45 /* E */) return this.ecuFrame(data);
    if (first === 0x7b /* { */) return this.jsonFrame(data);
    const hex = first?.toString(16).padStart(2, "0");
    return this.startDiscard("bad_magic", `bytes that are not a frame start (first byte 0x${hex})`);
  }

  private continueDiscarding(data: Buffer): FrameEvent | undefined {
    const point = this.resyncPoint(data);
    if (point) {
      const through = point.lf ? point.index + 1 : point.index;
      this.drop(through);
      return this.discardError(through);
    }
    if (this.discarded + data.length > this.maxBytes) {
      const detail = `${this.discarding?.detail ?? "garbage"}; more than ${this.maxBytes} bytes without a line end or frame start`;
      const discarded = this.discarded + data.length;
      this.drop(data.length);
      this.discarding = undefined;
      this.discarded = 0;
      return { kind: "error", code: "too_large", detail, discarded, fatal: true };
    }
    // Keep the last bytes in case they begin a frame start split across segments.
    const keep = Math.min(2, data.length);
    this.discarded += data.length - keep;
    this.drop(data.length - keep);
    return undefined;
  }

  private startsWith(data: Buffer, magic: string): boolean | undefined {
    const n = Math.min(data.length, magic.length);
    if (data.toString("latin1", 0, n) !== magic.slice(0, n)) return false;
    return n === magic.length ? true : undefined;
  }

  private apsFrame(data: Buffer): FrameEvent | undefined {
    const magic = this.startsWith(data, "APS");
    if (magic === undefined) return undefined;
    if (
      magic === false ||
      (data.length >= 5 && !/^[0-9]{2}$/.test(data.toString("latin1", 3, 5)))
    ) {
      const head = data.toString("latin1", 0, Math.min(5, data.length));
      return this.startDiscard("bad_magic", `'${head}' is not an APS frame start`);
    }
    const declared = this.declared(data, "APS");
    if (declared === undefined) return undefined;
    if (declared === null) return this.badLength(data, "APS");
    if (declared > this.maxBytes) return this.tooLarge(declared);
    const lf = data.subarray(0, Math.min(declared, data.length)).indexOf(LF);
    if (lf !== -1) {
      this.drop(lf + 1);
      return {
        kind: "error",
        code: "bad_length",
        detail: `length field says ${declared} bytes but the line ended after ${lf}`,
        discarded: lf + 1,
        fatal: false,
      };
    }
    if (data.length < declared) return undefined;
    return { kind: "frame", frame: this.take(declared) };
  }

  private ecuFrame(data: Buffer): FrameEvent | undefined {
    const magic = this.startsWith(data, "ECU");
    if (magic === undefined) return undefined;
    if (magic === false) {
      return this.startDiscard(
        "bad_magic",
        `'${data.toString("latin1", 0, 3)}' is not a frame start`,
      );
    }
    const declared = this.declared(data, "ECU11");
    if (declared === undefined) return undefined;
    if (declared === null) return this.badLength(data, "ECU11");
    if (declared > this.maxBytes) return this.tooLarge(declared);
    if (data.length < declared) return undefined;
    return { kind: "frame", frame: this.take(declared) };
  }

  /** The declared length; undefined while the length field is incomplete, null when unusable. */
  private declared(data: Buffer, kind: LengthFramed): number | null | undefined {
    const prefix = lengthPrefix(kind);
    if (data.length < prefix) return undefined;
    return declaredLength(data.toString("latin1", 0, prefix), kind) ?? null;
  }

  private badLength(data: Buffer, kind: LengthFramed): FrameEvent | undefined {
    const field = lengthFieldText(data.toString("latin1", 0, lengthPrefix(kind)), kind);
    const name = kind === "APS" ? "APS" : "ECU";
    return this.startDiscard(
      "bad_length",
      `${name} length field '${field}' is not a usable length`,
    );
  }

  private jsonFrame(data: Buffer): FrameEvent | undefined {
    const lf = data.indexOf(LF);
    if (lf === -1) {
      return data.length > this.maxBytes ? this.tooLarge(data.length) : undefined;
    }
    const frame = this.take(lf);
    this.drop(1);
    return { kind: "frame", frame };
  }

  private startDiscard(code: FramerErrorCode, detail: string): FrameEvent | undefined {
    this.discarding = { code, detail };
    this.drop(1);
    this.discarded = 1;
    return this.continueDiscarding(this.view());
  }

  private tooLarge(declared: number): FrameEvent {
    const discarded = this.buffered;
    this.drop(discarded);
    return {
      kind: "error",
      code: "too_large",
      detail: `message of ${declared} bytes exceeds the ${this.maxBytes}-byte limit (option max_message_kib)`,
      discarded,
      fatal: true,
    };
  }
}
