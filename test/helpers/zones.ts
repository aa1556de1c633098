import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/**
 * A zone whose local day has at least `hours` left on both sides of now, for tests that send
 * rounds from the last hour and read energy_today: run near midnight in one fixed zone, those
 * rounds fall on yesterday and the test fails by the clock (seen in CI at 00:10 Amsterdam time).
 * Amsterdam and Tokyo are 8 hours apart, so one of them is always far from its midnight.
 */
export function zoneAwayFromMidnight(hours = 2, now = dayjs()): string {
  for (const zone of ["Europe/Amsterdam", "Asia/Tokyo"]) {
    const hour = now.tz(zone).hour();
    if (hour >= hours && hour < 24 - hours) return zone;
  }
  throw new Error("unreachable: two zones 8 hours apart cover every hour");
}
