import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyState } from "../../src/ha/model.js";
import { applyUpload, expireOffline, findStale, rollover } from "../../src/ha/tracker.js";
import { inverterValues } from "../../src/ha/values.js";
import { captureUpload } from "../helpers/haHarness.js";
import { ECU_ID, QS1, YC600 } from "./expected.js";

const DAY = "2024-02-06";
const T0 = Date.UTC(2024, 1, 6, 10, 22, 20);
// Channel round energies of the capture, mWh (fixture derived_decode: 1.409 Wh, 1.419 Wh, ...).
const YC600_MWH = 1409 + 1419;
const QS1_MWH = 2309 + 3070 + 3569 + 3437;

test("a round dated today is counted once, however often it is re-sent", () => {
  const state = emptyState();
  rollover(state, DAY);
  const first = applyUpload(state, captureUpload(), T0, DAY);
  assert.equal(first.counted, true);
  assert.equal(first.fresh, true);
  const again = applyUpload(state, captureUpload(), T0 + 60_000, DAY);
  assert.equal(again.counted, false);
  assert.equal(again.fresh, false);
  assert.equal(state.inverters[YC600]?.energyTodayMWh, YC600_MWH);
  assert.equal(state.inverters[QS1]?.energyTodayMWh, QS1_MWH);
  assert.equal(state.ecus[ECU_ID]?.energyTodayMWh, YC600_MWH + QS1_MWH);
  assert.equal(state.ecus[ECU_ID]?.maxPowerTodayW, 190);
  assert.equal(inverterValues(state.inverters[QS1] ?? assert.fail()).energy_today, 0.012385);
});

test("an older round arriving late is counted but does not replace live values", () => {
  const state = emptyState();
  rollover(state, DAY);
  applyUpload(state, captureUpload({ timestamp: "20240206112714", lifetimeKWh: 2128 }), T0, DAY);
  const late = captureUpload({ timestamp: "20240206112214", lifetimeKWh: 2127.9 });
  const qs1 = late.inverters[1];
  assert.ok(qs1?.channels[0]);
  qs1.channels[0].powerW = 5;
  const outcome = applyUpload(state, late, T0 + 1000, DAY);
  assert.deepEqual([outcome.fresh, outcome.counted, outcome.rejectedLifetime], [false, true, null]);
  assert.equal(state.ecus[ECU_ID]?.lifetimeEnergyKWh, 2128);
  assert.equal(state.ecus[ECU_ID]?.lastRoundTimestamp, "2024-02-06T11:27:14");
  assert.equal(state.inverters[QS1]?.channels[0]?.powerW, 29);
  assert.equal(state.ecus[ECU_ID]?.energyTodayMWh, 2 * (YC600_MWH + QS1_MWH));
});

test("rounds from another day are not counted as today's energy", () => {
  const state = emptyState();
  rollover(state, "2024-02-07");
  const outcome = applyUpload(state, captureUpload(), T0, "2024-02-07");
  assert.equal(outcome.counted, false);
  assert.equal(state.ecus[ECU_ID]?.energyTodayMWh, 0);
  assert.equal(state.ecus[ECU_ID]?.maxPowerTodayW, null);
});

test("rollover resets the day's counters and forgets counted rounds", () => {
  const state = emptyState();
  assert.equal(rollover(state, DAY), false, "the first day is not a reset");
  applyUpload(state, captureUpload(), T0, DAY);
  assert.equal(rollover(state, DAY), false);
  assert.equal(rollover(state, "2024-02-07"), true);
  assert.equal(state.ecus[ECU_ID]?.energyTodayMWh, 0);
  assert.equal(state.ecus[ECU_ID]?.maxPowerTodayW, null);
  assert.deepEqual(state.ecus[ECU_ID]?.countedRounds, []);
  assert.equal(state.inverters[QS1]?.energyTodayMWh, 0);
  assert.equal(state.ecus[ECU_ID]?.lifetimeEnergyKWh, 2127.9, "lifetime is not a daily counter");
});

test("a lower lifetime energy in a newer round is rejected", () => {
  const state = emptyState();
  applyUpload(state, captureUpload(), T0, DAY);
  const glitch = captureUpload({ timestamp: "20240206112714", lifetimeKWh: 12.3 });
  const outcome = applyUpload(state, glitch, T0 + 300_000, DAY);
  assert.deepEqual(outcome.rejectedLifetime, { lastKWh: 2127.9, receivedKWh: 12.3 });
  assert.equal(state.ecus[ECU_ID]?.lifetimeEnergyKWh, 2127.9);
  assert.equal(state.ecus[ECU_ID]?.powerW, 190, "the rest of the round is still taken");
});

test("an inverter missing from a newer round turns OFF with 0 W", () => {
  const state = emptyState();
  applyUpload(state, captureUpload(), T0, DAY);
  const next = captureUpload({ timestamp: "20240206112714" });
  next.inverters = next.inverters.slice(0, 1);
  applyUpload(state, next, T0 + 300_000, DAY);
  const qs1 = inverterValues(state.inverters[QS1] ?? assert.fail());
  assert.equal(qs1.online, "OFF");
  assert.equal(qs1.power, 0);
  assert.equal(qs1.ac_voltage, null);
  assert.equal(state.inverters[YC600]?.online, true);
});

test("no upload for the offline time: 0 W and OFF, energy kept", () => {
  const state = emptyState();
  rollover(state, DAY);
  applyUpload(state, captureUpload(), T0, DAY);
  assert.deepEqual(expireOffline(state, T0 + 899_999, 900_000), []);
  assert.deepEqual(expireOffline(state, T0 + 900_000, 900_000), [ECU_ID]);
  assert.deepEqual(expireOffline(state, T0 + 990_000, 900_000), [], "only once");
  const ecu = state.ecus[ECU_ID];
  assert.equal(ecu?.online, false);
  assert.equal(ecu?.powerW, 0);
  assert.equal(ecu?.energyTodayMWh, YC600_MWH + QS1_MWH);
  const yc = inverterValues(state.inverters[YC600] ?? assert.fail());
  assert.deepEqual([yc.online, yc.power, yc.energy_today], ["OFF", 0, 0.002828]);
});

test("devices unheard of for the stale time are found", () => {
  const state = emptyState();
  applyUpload(state, captureUpload(), T0, DAY);
  assert.deepEqual(findStale(state, T0 + 86_399_999, 86_400_000), { ecus: [], inverters: [] });
  assert.deepEqual(findStale(state, T0 + 86_400_000, 86_400_000), {
    ecus: [ECU_ID],
    inverters: [YC600, QS1],
  });
});
