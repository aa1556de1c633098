import { ecuDate, localDate } from "../ha/time.js";
import type { PowerPoint } from "./types.js";

/**
 * A day has 288 five-minute rounds; this leaves room for ECUs that upload every minute while
 * bounding what a sender of fake timestamps can make the proxy hold (and write to disk).
 */
export const MAX_ROUNDS_PER_DAY = 1500;

export interface TodayFile {
  version: 2;
  day: string;
  /** Per ECU, today's rounds sorted by the ECU's own timestamp: [timestamp, powerW]. */
  ecus: Record<string, Array<[string, number]>>;
}

/**
 * Today's power chart per ECU: one point per round, each (ECU, round timestamp) once whatever
 * order rounds arrive in (ECUs resend old rounds after outages and at night, protocol.md §5–6),
 * only rounds dated today, all cleared at local midnight of `zone`. Today's energy is not kept
 * here: the page shows the Home Assistant bridge's counter (src/ha/tracker.ts), so both agree.
 * Pure state: the owner persists `toJSON()` and restores it with `restore()`.
 */
export class TodaySeries {
  private day = "";
  private dayMinute = Number.NaN;
  private ecus = new Map<string, Array<[string, number]>>();

  constructor(private readonly zone: string) {}

  /** Starts a new day when the local date changed since the last call. */
  roll(nowMs: number): string {
    // Zone conversion is slow (~1 ms) and every zone's midnight falls on a whole minute, so
    // the date is worked out at most once a minute.
    const minute = Math.floor(nowMs / 60_000);
    if (minute === this.dayMinute) return this.day;
    this.dayMinute = minute;
    const today = localDate(nowMs, this.zone);
    if (today !== this.day) {
      this.day = today;
      this.ecus.clear();
    }
    return today;
  }

  /** Takes one round; returns true when it was added (dated today, new, within the bound). */
  addRound(ecuId: string, timestamp: string, powerW: number, nowMs: number): boolean {
    if (ecuDate(timestamp) !== this.roll(nowMs)) return false;
    let rounds = this.ecus.get(ecuId);
    if (!rounds) {
      rounds = [];
      this.ecus.set(ecuId, rounds);
    }
    if (rounds.length >= MAX_ROUNDS_PER_DAY) return false;
    const at = insertionIndex(rounds, timestamp);
    if (rounds[at]?.[0] === timestamp) return false;
    rounds.splice(at, 0, [timestamp, powerW]);
    return true;
  }

  series(ecuId: string, nowMs: number): PowerPoint[] {
    this.roll(nowMs);
    return (this.ecus.get(ecuId) ?? []).map(([ts, w]) => ({ t: ts.slice(11, 16), w }));
  }

  toJSON(): TodayFile {
    return { version: 2, day: this.day, ecus: Object.fromEntries(this.ecus) };
  }

  /** Takes back a saved day; a file from another day (or a damaged one) is ignored. */
  restore(saved: unknown, nowMs: number): boolean {
    const today = this.roll(nowMs);
    if (!isTodayFile(saved) || saved.day !== today) return false;
    for (const [id, rounds] of Object.entries(saved.ecus)) {
      const kept = rounds
        .filter((r) => ecuDate(r[0]) === today)
        .slice(0, MAX_ROUNDS_PER_DAY)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
      this.ecus.set(id, kept);
    }
    return true;
  }
}

function insertionIndex(rounds: Array<[string, number]>, timestamp: string): number {
  let lo = 0;
  let hi = rounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rounds[mid]?.[0] ?? "") < timestamp) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isTodayFile(value: unknown): value is TodayFile {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<TodayFile>;
  if (v.version !== 2 || typeof v.day !== "string" || typeof v.ecus !== "object" || !v.ecus) {
    return false;
  }
  return Object.values(v.ecus).every(
    (rounds) =>
      Array.isArray(rounds) &&
      rounds.every((r) => Array.isArray(r) && typeof r[0] === "string" && typeof r[1] === "number"),
  );
}
