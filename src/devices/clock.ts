/**
 * An ECU's clock offset, learned from how its rounds arrive. An ECU that lost its clock (a
 * reboot without a time source, a dead RTC battery) or runs in another zone than the `timezone`
 * option stamps every round far from the wall clock: judged by its stamp alone, every round
 * would be backlog for ever (behind) or refused for ever (ahead, freshness.ts).
 *
 * Each round gives one piece of evidence: its stamp (read in the configured zone) minus its
 * arrival. A round sent within a minute of being made gives the clock's offset; a resent or
 * buffered round gives less (it arrived later), never more — so where rounds disagree, the higher
 * value is the fresher one. The offset is taken only when AGREE_ROUNDS rounds agree, so one round
 * from a LAN host with any stamp at all cannot move it. Refused rounds are evidence too: an ECU
 * ahead of the clock has nothing else to be learned from.
 *
 * Rounds stay keyed by their own ECU time (counters.ts): the offset changes which day a round
 * counts for and whether it is live, never whether it was counted already.
 */
import { epochToIso, localDate } from "../zoneTime.js";
import { MAX_AHEAD_MINUTES } from "./freshness.js";
import { roundDate } from "./roundTime.js";

/** Evidence kept per ECU: about an hour of five-minute rounds. */
export const CLOCK_SAMPLES = 12;
/** Rounds whose evidence must agree before an offset is taken (or changed). */
export const AGREE_ROUNDS = 3;
/**
 * How far apart (s) the evidence of agreeing rounds may lie: fresh rounds arrive within a minute
 * of being made; a burst of five-minute rounds resent back to back lies 5 minutes apart.
 */
export const AGREE_TOLERANCE_S = 90;
/**
 * Rounds arriving within this of the previous one (s) whose evidence disagrees with it are one
 * burst (resent rounds, or a LAN host's round beside a real one): of the two, the fresher counts.
 * A burst of hundreds of buffered rounds is then one piece of evidence, not a flood.
 */
export const BURST_GAP_S = 60;
/**
 * An offset smaller than this (s) is not corrected: it is the upload's own delay, and correcting
 * it would move a round made at 23:59:40 to the next day.
 */
export const CORRECT_FROM_S = 120;
/** An offset beyond this (s) is a wrong clock (the "ECU clock wrong" problem sensor). */
export const WRONG_CLOCK_S = MAX_AHEAD_MINUTES * 60;
/**
 * Bound of an offset or piece of evidence read from the state file (s): an ECU stamp has a
 * four-digit year, so no reading lies further than ten thousand years from the wall clock.
 */
export const MAX_OFFSET_S = 10_000 * 366 * 86_400;

/** One round's evidence: arrival (epoch s), its ECU-local seconds (roundTime.ts), stamp − arrival (s). */
export type ClockSample = [arrivalS: number, roundS: number, offsetS: number];

export interface EcuClock {
  /** The learned offset (s; positive: the ECU is ahead), null until rounds agreed on one. */
  offsetS: number | null;
  /** The newest evidence, in order of arrival (at most CLOCK_SAMPLES). */
  samples: ClockSample[];
}

export function newClock(): EcuClock {
  return { offsetS: null, samples: [] };
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

/**
 * The offset the newest agreeing rounds give: of the groups of at least AGREE_ROUNDS samples
 * within AGREE_TOLERANCE_S of each other, the one with the latest arrival (so a clock that was
 * set right is followed after AGREE_ROUNDS rounds, whichever way it moved); its median.
 */
function agreedOffset(samples: readonly ClockSample[]): number | undefined {
  for (let i = samples.length - 1; i >= 0; i--) {
    const d = (samples[i] as ClockSample)[2];
    const near = samples
      .map((s) => s[2])
      .filter((v) => Math.abs(v - d) <= AGREE_TOLERANCE_S)
      .sort((a, b) => a - b);
    let best: number[] = [];
    for (const low of near) {
      if (low > d) break;
      const group = near.filter((v) => v >= low && v <= low + AGREE_TOLERANCE_S);
      if (group.length > best.length) best = group;
    }
    if (best.length >= AGREE_ROUNDS) return median(best);
  }
  return undefined;
}

/**
 * The clock with one more round's evidence (a new object: precheck asks without changing the
 * state). `roundAtMs`: the round's stamp read in the configured zone; NaN is no evidence.
 */
export function observe(
  clock: EcuClock,
  roundS: number,
  roundAtMs: number,
  arrivalMs: number,
): EcuClock {
  if (!Number.isFinite(roundAtMs) || !Number.isFinite(arrivalMs)) return clock;
  // A round already in the evidence is a resend: later, so it says less than it said then.
  if (clock.samples.some((s) => s[1] === roundS)) return clock;
  const sample: ClockSample = [
    Math.floor(arrivalMs / 1000),
    roundS,
    Math.round((roundAtMs - arrivalMs) / 1000),
  ];
  const samples = [...clock.samples];
  const last = samples[samples.length - 1];
  if (
    last &&
    sample[0] - last[0] <= BURST_GAP_S &&
    Math.abs(sample[2] - last[2]) > AGREE_TOLERANCE_S
  ) {
    const fresher = sample[2] > last[2] ? sample : last;
    samples[samples.length - 1] = [sample[0], fresher[1], fresher[2]];
  } else {
    samples.push(sample);
    if (samples.length > CLOCK_SAMPLES) samples.splice(0, samples.length - CLOCK_SAMPLES);
  }
  return { offsetS: agreedOffset(samples) ?? clock.offsetS, samples };
}

/** The correction (s) rounds are judged with: the learned offset, when it is more than a delay. */
export function correctionOf(clock: EcuClock): number {
  const offset = clock.offsetS;
  return offset !== null && Math.abs(offset) >= CORRECT_FROM_S ? offset : 0;
}

/**
 * The learned offset moved more than agreeing rounds' own spread (first learned, or the clock
 * was set): worth a log line and an immediate save; a few seconds of jitter is neither.
 */
export function clockMoved(from: number | null, to: number | null): boolean {
  if (from === null || to === null) return from !== to;
  return Math.abs(to - from) > AGREE_TOLERANCE_S;
}

/** The "ECU clock wrong" problem: the learned offset is beyond what a working clock shows. */
export function clockWrong(clock: EcuClock): boolean {
  return clock.offsetS !== null && Math.abs(clock.offsetS) > WRONG_CLOCK_S;
}

/** A round's time on the wall clock: the instant, its local date and local `YYYY-MM-DDTHH:mm:ss`. */
export interface WallTime {
  atMs: number;
  day: string;
  timestamp: string;
}

/**
 * Where a round lies on the wall clock once the correction is applied. Without a correction the
 * stamp itself (as before: no zone round trip, which would move a stamp in a DST gap).
 */
export function wallTime(
  ecuTimestamp: string,
  roundAtMs: number,
  correction: number,
  zone: string,
): WallTime {
  if (correction === 0 || !Number.isFinite(roundAtMs)) {
    return { atMs: roundAtMs, day: roundDate(ecuTimestamp), timestamp: ecuTimestamp };
  }
  const atMs = roundAtMs - correction * 1000;
  return { atMs, day: localDate(atMs, zone), timestamp: epochToIso(atMs, zone).slice(0, 19) };
}

const isFiniteWithin = (v: unknown): v is number =>
  typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= MAX_OFFSET_S;

/**
 * The clock as read from the state file: missing (files before it) gives the default; evidence
 * that no ECU can have gives the default too (with `problem` saying what), so a damaged field
 * costs the learning of three rounds, not the counters.
 */
export function readClock(v: unknown): { clock: EcuClock; problem?: string } {
  if (v === undefined) return { clock: newClock() };
  const o = v as { offsetS?: unknown; samples?: unknown };
  const ok =
    typeof v === "object" &&
    v !== null &&
    (o.offsetS === null || isFiniteWithin(o.offsetS)) &&
    Array.isArray(o.samples) &&
    o.samples.length <= CLOCK_SAMPLES &&
    o.samples.every(
      (s) =>
        Array.isArray(s) &&
        s.length === 3 &&
        typeof s[0] === "number" &&
        Number.isSafeInteger(s[0]) &&
        Number.isSafeInteger(s[1]) &&
        isFiniteWithin(s[2]),
    );
  if (!ok) return { clock: newClock(), problem: "clock evidence out of bounds" };
  return {
    clock: {
      offsetS: o.offsetS as number | null,
      samples: (o.samples as ClockSample[]).map((s) => [s[0], s[1], s[2]]),
    },
  };
}
