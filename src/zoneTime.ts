import dayjs from "dayjs";
import { useZone } from "./zone.js";

/**
 * Local dates and ISO texts for the zone the ECUs' clocks run in. Each function first makes that
 * zone the process's local time (zone.ts: Intl formatters would cost ~8 MiB), so dayjs' local
 * mode gives the zone's wall time and offset.
 *
 * The last answer per zone is kept for one time bucket: each upload asks up to three times, and
 * zone offsets change only on whole minutes, so every instant of one UTC minute has the same
 * local date, and of one second the same ISO text.
 */
interface Memo {
  bucket: number;
  text: string;
}
const dateMemo = new Map<string, Memo>();
const isoMemo = new Map<string, Memo>();

function memoized(memo: Map<string, Memo>, zone: string, bucket: number, make: () => string) {
  const hit = memo.get(zone);
  if (hit && hit.bucket === bucket) return hit.text;
  useZone(zone);
  const text = make();
  memo.set(zone, { bucket, text });
  return text;
}

/** `YYYY-MM-DD` of an instant in the given IANA zone: the "today" that energy counters use. */
export function localDate(epochMs: number, zone: string): string {
  return memoized(dateMemo, zone, Math.floor(epochMs / 60_000), () =>
    dayjs(epochMs).format("YYYY-MM-DD"),
  );
}

const timestampMemo = new Map<string, { timestamp: string; text: string }>();

/**
 * An ECU timestamp (local wall time, no zone) as ISO-8601 with the zone's offset, which Home
 * Assistant requires for `timestamp` sensors (addon_conventions §6).
 */
export function ecuTimestampToIso(ecuTimestamp: string, zone: string): string {
  // The same round's timestamp is published again and again (every state message until the
  // next round): remember the last conversion per zone.
  const hit = timestampMemo.get(zone);
  if (hit && hit.timestamp === ecuTimestamp) return hit.text;
  useZone(zone);
  const text = dayjs(ecuTimestamp).format();
  timestampMemo.set(zone, { timestamp: ecuTimestamp, text });
  return text;
}

/** An instant as ISO-8601 with the zone's offset. */
export function epochToIso(epochMs: number, zone: string): string {
  return memoized(isoMemo, zone, Math.floor(epochMs / 1000), () => dayjs(epochMs).format());
}

const epochMemo = new Map<string, { timestamp: string; ms: number }>();

/** The instant an ECU timestamp names when read in the zone (NaN for a malformed one). */
export function ecuTimestampToEpoch(ecuTimestamp: string, zone: string): number {
  // A resent round, and the log line about a round, ask again for the same timestamp.
  const hit = epochMemo.get(zone);
  if (hit && hit.timestamp === ecuTimestamp) return hit.ms;
  useZone(zone);
  const ms = dayjs(ecuTimestamp).valueOf();
  epochMemo.set(zone, { timestamp: ecuTimestamp, ms });
  return ms;
}
