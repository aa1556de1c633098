/**
 * Zone handling without Intl formatters (src/zone.ts, src/zoneTime.ts): names are checked and
 * spelled as TZ needs them, and conversions stay right when zones alternate in one process.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalZone } from "../src/zone.js";
import { ecuTimestampToIso, epochToIso, localDate } from "../src/zoneTime.js";

test("zone names: canonical, UTC spellings, aliases, other case; unknown ones refused", () => {
  assert.equal(canonicalZone("Europe/Amsterdam"), "Europe/Amsterdam");
  for (const utc of ["UTC", "Etc/UTC", "GMT", "Etc/GMT"]) assert.equal(canonicalZone(utc), utc);
  assert.equal(canonicalZone("europe/amsterdam"), "Europe/Amsterdam");
  const pacific = canonicalZone("US/Pacific");
  assert.ok(pacific === "US/Pacific" || pacific === "America/Los_Angeles", pacific);
  assert.equal(canonicalZone("Mars/Olympus_Mons"), undefined);
  assert.equal(canonicalZone("Europe Amsterdam"), undefined);
});

test("ECU wall time to ISO with the zone's offset, summer and winter, zones alternating", () => {
  assert.equal(
    ecuTimestampToIso("2024-02-06T11:22:14", "Europe/Amsterdam"),
    "2024-02-06T11:22:14+01:00",
  );
  assert.equal(
    ecuTimestampToIso("2024-02-06T11:22:14", "Pacific/Auckland"),
    "2024-02-06T11:22:14+13:00",
  );
  assert.equal(
    ecuTimestampToIso("2024-07-01T12:00:00", "Europe/Amsterdam"),
    "2024-07-01T12:00:00+02:00",
  );
  assert.equal(
    ecuTimestampToIso("2024-07-01T12:00:00", "America/New_York"),
    "2024-07-01T12:00:00-04:00",
  );
  assert.equal(ecuTimestampToIso("2024-07-01T12:00:00", "UTC"), "2024-07-01T12:00:00+00:00");
});

test("instants as local dates and ISO texts in different zones", () => {
  const noonUtc = Date.UTC(2024, 0, 1, 12, 0, 0);
  assert.equal(epochToIso(noonUtc, "Pacific/Auckland"), "2024-01-02T01:00:00+13:00");
  assert.equal(epochToIso(noonUtc, "America/Los_Angeles"), "2024-01-01T04:00:00-08:00");
  assert.equal(localDate(noonUtc, "Pacific/Auckland"), "2024-01-02");
  assert.equal(localDate(noonUtc, "America/Los_Angeles"), "2024-01-01");
  // Just after the switch to summer time in Amsterdam (02:00 → 03:00 on 31 March 2024).
  const afterSwitch = Date.UTC(2024, 2, 31, 1, 30, 0);
  assert.equal(epochToIso(afterSwitch, "Europe/Amsterdam"), "2024-03-31T03:30:00+02:00");
  assert.equal(epochToIso(afterSwitch - 3600_000, "Europe/Amsterdam"), "2024-03-31T01:30:00+01:00");
});
