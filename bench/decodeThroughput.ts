import { decodeFrame } from "../src/protocol/decode.js";
import { Framer } from "../src/protocol/framer.js";
import { median } from "./stats.js";

export interface ThroughputResult {
  name: string;
  inverters: number;
  bytes: number;
  /** Pure decodeFrame on the frame. */
  decodePerSecond: number;
  /** What a connection does: a fresh Framer, push the wire bytes, decode the frame. */
  framedPerSecond: number;
}

/** Keeps results observable so the optimiser cannot drop the work being timed. */
let sink = 0;

/** CPU time (user + system) of this process so far, µs. */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Measurement windows per figure; the median is reported. */
const WINDOWS = 5;

/**
 * Calls of `fn` per second of CPU time, median of several windows after a warm-up. CPU time,
 * not wall time: on a machine shared with other work, wall time measures the neighbours too.
 */
function rate(fn: () => void, durationMs: number): number {
  const batch = 100;
  const warmUntil = performance.now() + Math.min(200, durationMs / 2);
  while (performance.now() < warmUntil) for (let i = 0; i < batch; i++) fn();
  const rates: number[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    let calls = 0;
    const cpu = cpuUs();
    const until = performance.now() + durationMs / WINDOWS;
    while (performance.now() < until) {
      for (let i = 0; i < batch; i++) fn();
      calls += batch;
    }
    rates.push((calls / (cpuUs() - cpu)) * 1e6);
  }
  return median(rates);
}

/** Uploads per second through the pure decoder, on this one thread (one core). */
export function measureDecode(
  name: string,
  inverters: number,
  frame: Buffer,
  wire: Buffer,
  durationMs: number,
): ThroughputResult {
  const check = decodeFrame(frame);
  if (check.type !== "upload" || check.inverters.length !== inverters) {
    throw new Error(`${name}: the test upload does not decode to ${inverters} inverters`);
  }
  const decodePerSecond = rate(() => {
    const m = decodeFrame(frame);
    if (m.type === "upload") sink += m.inverters.length;
  }, durationMs);
  const maxBytes = 64 * 1024;
  const framedPerSecond = rate(() => {
    for (const event of new Framer(maxBytes).push(wire)) {
      if (event.kind === "frame") sink += decodeFrame(event.frame).type.length;
    }
  }, durationMs);
  if (sink === -1) console.log(sink);
  return { name, inverters, bytes: frame.length, decodePerSecond, framedPerSecond };
}
