/**
 * Shared pieces for the Home Assistant and status tests: uploads from the capture, exchanges, a
 * clock, and a device registry wired as main.ts wires it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { DeviceRegistry } from "../../src/devices/registry.js";
import { createLogger, type Logger } from "../../src/log.js";
import { parseOptions } from "../../src/options/load.js";
import { devicesConfig } from "../../src/options/parts.js";
import type { Options } from "../../src/options/schema.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { Message, UploadMessage } from "../../src/protocol/types.js";
import type { Exchange } from "../../src/proxy/exchange.js";
import type { UploadVerdict } from "../../src/proxy/responder.js";
import { epochToIso } from "../../src/zoneTime.js";
import { uploadFrame } from "./fixtures.js";

export function tempDir(prefix = "ha-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface UploadEdits {
  /** `YYYYMMDDhhmmss` */
  timestamp?: string;
  lifetimeKWh?: number;
  ecuId?: string;
}

/**
 * The real capture with header fields rewritten (same offsets as the wire, protocol.md §3.1),
 * decoded by the real decoder: lets tests send the same rounds at other times.
 */
export function captureFrame(edits: UploadEdits = {}): Buffer {
  let text = uploadFrame().toString("latin1");
  const put = (offset: number, value: string) => {
    text = text.slice(0, offset) + value + text.slice(offset + value.length);
  };
  if (edits.ecuId) put(18, edits.ecuId);
  if (edits.lifetimeKWh !== undefined) {
    put(50, String(Math.round(edits.lifetimeKWh * 10)).padStart(10, "0"));
  }
  if (edits.timestamp) put(60, edits.timestamp);
  return Buffer.from(text, "latin1");
}

export function captureUpload(edits: UploadEdits = {}): UploadMessage {
  const message = decodeFrame(captureFrame(edits));
  if (message.type !== "upload") throw new Error(`capture did not decode: ${message.type}`);
  return message;
}

export function exchangeOf(message: Message, receivedAt = Date.now()): Exchange {
  return {
    receivedAt,
    port: 8995,
    remote: "127.0.0.1",
    frame: Buffer.alloc(0),
    message,
    answer: null,
    answeredBy: "proxy",
  };
}

/** A settable clock for `now`. */
export class TestClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A logger whose JSON lines are collected for assertions. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: "debug", format: "json", destination }), lines };
}

export function testOptions(overrides: Record<string, unknown> = {}): Options {
  return parseOptions({ timezone: "Europe/Amsterdam", ...overrides });
}

/**
 * An instant as an ECU would stamp it, `YYYYMMDDhhmmss` in `zone` (for `captureFrame`): rounds
 * are live only when their own time is close to the clock (src/devices/freshness.ts).
 */
export function ecuStamp(epochMs: number, zone: string): string {
  return epochToIso(epochMs, zone).slice(0, 19).replace(/[-T:]/g, "");
}

export interface DevicesSetup {
  dataDir?: string;
  /** Option values on top of testOptions' (timezone Europe/Amsterdam). */
  optionOverrides?: Record<string, unknown>;
  logger?: Logger;
  now?: () => number;
  checkIntervalMs?: number;
}

/** A started device registry configured from the options, as main.ts makes it. */
export function startDevices(setup: DevicesSetup = {}): DeviceRegistry {
  const devices = new DeviceRegistry({
    ...devicesConfig(testOptions(setup.optionOverrides)),
    dataDir: setup.dataDir ?? tempDir(),
    logger: setup.logger ?? captureLogger().logger,
    ...(setup.now ? { now: setup.now } : {}),
    ...(setup.checkIntervalMs !== undefined ? { checkIntervalMs: setup.checkIntervalMs } : {}),
  });
  devices.start();
  return devices;
}

/**
 * What the proxy does with an exchange's message: an upload goes through the registry's
 * acceptUpload before it is answered (resolving once the round is stored, with the verdict the
 * ECU would be answered by; the registry's own clock is the arrival time), anything else to
 * handleExchange after the answer.
 */
export async function feed(
  devices: DeviceRegistry,
  exchange: Exchange,
): Promise<UploadVerdict | undefined> {
  if (exchange.message.type === "upload") {
    return devices.acceptUpload(exchange.message);
  }
  devices.handleExchange(exchange);
  return undefined;
}
