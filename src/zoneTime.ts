import dayjs from "dayjs";
import { useZone } from "./zone.js";

/**
 * Local dates and ISO texts for the zone the ECUs' clocks run in. Each function first makes that
 * zone the process's local time (zone.ts: Intl formatters would cost ~8 MiB), so dayjs' local
 * mode gives the zone's wall time and offset.
 *
 * The last answer per zone and function is kept: each upload asks several times, and the same
 * round's timestamp is converted again for every state message until the next round. Zone
 * offsets change only on whole minutes, so every instant of one UTC minute has the same local
 * date, and of one second the same ISO text: instants are keyed by that bucket.
 */
interface Memo<K, V> {
  key: K;
  value: V;
}

function memoizer<K, V>(convert: (key: K) => V): (key: K, zone: string) => V {
  const last = new Map<string, Memo<K, V>>();
  return (key, zone) => {
    const hit = last.get(zone);
    if (hit && hit.key === key) return hit.value;
    useZone(zone);
    const value = convert(key);
    last.set(zone, { key, value });
    return value;
  };
}

const dateOfMinute = memoizer((minute: number) => dayjs(minute * 60_000).format("YYYY-MM-DD"));
const isoOfSecond = memoizer((second: number) => dayjs(second * 1000).format());
const isoOfTimestamp = memoizer((timestamp: string) => dayjs(timestamp).format());
const epochOfTimestamp = memoizer((timestamp: string) => dayjs(timestamp).valueOf());

/** `YYYY-MM-DD` of an instant in the given IANA zone: the "today" that energy counters use. */
export function localDate(epochMs: number, zone: string): string {
  return dateOfMinute(Math.floor(epochMs / 60_000), zone);
}

/**
 * An ECU timestamp (local wall time, no zone) as ISO-8601 with the zone's offset, which Home
 * Assistant requires for `timestamp` sensors (addon_conventions §6).
 */
export function ecuTimestampToIso(ecuTimestamp: string, zone: string): string {
  return isoOfTimestamp(ecuTimestamp, zone);
}

/** An instant as ISO-8601 with the zone's offset. */
export function epochToIso(epochMs: number, zone: string): string {
  return isoOfSecond(Math.floor(epochMs / 1000), zone);
}

/** The instant an ECU timestamp names when read in the zone (NaN for a malformed one). */
export function ecuTimestampToEpoch(ecuTimestamp: string, zone: string): number {
  return epochOfTimestamp(ecuTimestamp, zone);
}
