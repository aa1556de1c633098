import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import type { PowerPoint } from "./types.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/**
 * A day has 288 five-minute rounds; this leaves room for ECUs that upload every minute while
 * bounding what a sender of fake timestamps can make the proxy hold (and write to disk).
 */
export const MAX_ROUNDS_PER_DAY = 1500;

/** `YYYY-MM-DD` of an instant in an IANA zone: the "today" the counters belong to. */
export function localDate(epochMs: number, zone: string): string {
  return dayjs(epochMs).tz(zone).format("YYYY-MM-DD");
}

interface EcuDay {
  /** Sum of the counted rounds' channel energy, integer mWh so that sums stay exact. */
  energyMWh: number;
  /** Counted rounds, sorted by the ECU's own timestamp: [timestamp, powerW]. */
  rounds: Array<[string, number]>;
}

export interface TodayFile {
  version: 1;
  day: string;
  ecus: Record<string, EcuDay>;
}

/**
 * Today's energy and power chart per ECU. Each (ECU, round timestamp) is counted once, whatever
 * order rounds arrive in (ECUs resend old rounds after outages and at night, protocol.md §5–6),
 * and only rounds dated today count. Everything resets at local midnight of `zone`.
 * Pure state: the owner persists `toJSON()` and restores it with `restore()`.
 */
export class TodayTracker {
  private day = "";
  private dayMinute = Number.NaN;
  private ecus = new Map<string, EcuDay>();

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

  /**
   * Takes one round. Returns true when it was counted (dated today, not seen before, within the
   * daily bound).
   */
  addRound(ecuId: string, timestamp: string, powerW: number, energyWh: number, nowMs: number) {
    const today = this.roll(nowMs);
    // ECU timestamps are local wall time, so their date part is the ECU's local date.
    if (timestamp.slice(0, 10) !== today) return false;
    let ecu = this.ecus.get(ecuId);
    if (!ecu) {
      ecu = { energyMWh: 0, rounds: [] };
      this.ecus.set(ecuId, ecu);
    }
    if (ecu.rounds.length >= MAX_ROUNDS_PER_DAY) return false;
    const at = insertionIndex(ecu.rounds, timestamp);
    if (ecu.rounds[at]?.[0] === timestamp) return false;
    ecu.rounds.splice(at, 0, [timestamp, powerW]);
    ecu.energyMWh += Math.round(energyWh * 1000);
    return true;
  }

  energyWh(ecuId: string, nowMs: number): number {
    this.roll(nowMs);
    return (this.ecus.get(ecuId)?.energyMWh ?? 0) / 1000;
  }

  series(ecuId: string, nowMs: number): PowerPoint[] {
    this.roll(nowMs);
    return (this.ecus.get(ecuId)?.rounds ?? []).map(([ts, w]) => ({ t: ts.slice(11, 16), w }));
  }

  toJSON(): TodayFile {
    return { version: 1, day: this.day, ecus: Object.fromEntries(this.ecus) };
  }

  /** Takes back a saved day; a file from another day (or a damaged one) is ignored. */
  restore(saved: unknown, nowMs: number): boolean {
    const today = this.roll(nowMs);
    if (!isTodayFile(saved) || saved.day !== today) return false;
    for (const [id, ecu] of Object.entries(saved.ecus)) {
      const rounds = ecu.rounds
        .filter((r) => r[0].slice(0, 10) === today)
        .slice(0, MAX_ROUNDS_PER_DAY)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1));
      this.ecus.set(id, { energyMWh: ecu.energyMWh, rounds });
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
  if (v.version !== 1 || typeof v.day !== "string" || typeof v.ecus !== "object" || !v.ecus) {
    return false;
  }
  return Object.values(v.ecus).every(
    (e) =>
      typeof e?.energyMWh === "number" &&
      Array.isArray(e.rounds) &&
      e.rounds.every(
        (r) => Array.isArray(r) && typeof r[0] === "string" && typeof r[1] === "number",
      ),
  );
}
