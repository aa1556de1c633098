import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/** `YYYY-MM-DD` of an instant in the given IANA zone: the "today" that energy counters use. */
export function localDate(epochMs: number, zone: string): string {
  return dayjs(epochMs).tz(zone).format("YYYY-MM-DD");
}

/** The date part of an ECU timestamp (`YYYY-MM-DDTHH:mm:ss`, already local time). */
export function ecuDate(ecuTimestamp: string): string {
  return ecuTimestamp.slice(0, 10);
}

/**
 * An ECU timestamp (local wall time, no zone) as ISO-8601 with the zone's offset, which Home
 * Assistant requires for `timestamp` sensors (addon_conventions §6).
 */
export function ecuTimestampToIso(ecuTimestamp: string, zone: string): string {
  return dayjs.tz(ecuTimestamp, zone).format();
}

/** An instant as ISO-8601 with the zone's offset. */
export function epochToIso(epochMs: number, zone: string): string {
  return dayjs(epochMs).tz(zone).format();
}
