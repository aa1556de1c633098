import assert from "node:assert/strict";
import { test } from "node:test";
import { applyUpload, type UploadContext } from "../../src/devices/applyUpload.js";
import { type DevicesState, emptyState } from "../../src/devices/model.js";
import { ecuTimestampToEpoch, localDate } from "../../src/zoneTime.js";
import { amsterdam, ECU, plusMinutes, type RoundSpec, upload, ZONE } from "./rounds.js";

const NOON = "2026-12-03T12:00:00";

function apply(
  state: DevicesState,
  spec: RoundSpec,
  nowTs = spec.timestamp,
  extra: Partial<UploadContext> = {},
) {
  const nowMs = amsterdam(nowTs) + 5_000;
  return applyUpload(state, upload(spec), {
    nowMs,
    today: localDate(nowMs, ZONE),
    zone: ZONE,
    stampMs: ecuTimestampToEpoch(spec.timestamp, ZONE),
    liveWindowMs: 15 * 60_000,
    maxInvertersPerEcu: 100,
    weakRatio: 0.25,
    ...extra,
  });
}

const TWO = (w = 100): RoundSpec["inverters"] => [
  { uid: "408000000001", panels: [{ powerW: w }, { powerW: w }] },
  { uid: "408000000002", panels: [{ powerW: w }, { powerW: w }] },
];

test("a days-old round is backlog: its energy counts toward lifetime counters, nothing is shown live", () => {
  const state = emptyState();
  const outcome = apply(state, { timestamp: "2024-02-06T11:22:14", inverters: TWO() }, NOON);
  assert.equal(outcome.freshness, "backlog");
  assert.equal(outcome.count, "counted");
  const ecu = state.ecus[ECU];
  assert.ok(ecu);
  assert.equal(ecu.powerW, null, "no live power from an old round");
  assert.equal(ecu.online, false);
  assert.equal(ecu.lastRoundTimestamp, null);
  assert.equal(ecu.energyTodayMWh, 0, "not today's energy");
  assert.equal(ecu.backlogRounds, 1);
  const inv = state.inverters["408000000001"];
  assert.ok(inv);
  assert.equal(inv.online, false);
  assert.equal(inv.lifetimeMWh, 2 * 8333, "its own energy is still counted");
});

test("a round from earlier today, older than the live window, counts toward today but is not live", () => {
  const state = emptyState();
  const outcome = apply(state, { timestamp: "2026-12-03T10:00:00", inverters: TWO() }, NOON);
  assert.equal(outcome.freshness, "backlog");
  assert.equal(state.ecus[ECU]?.energyTodayMWh, 4 * 8333);
  assert.equal(state.ecus[ECU]?.powerW, null);
});

test("a round dated in the future is refused and never becomes the reference", () => {
  const state = emptyState();
  assert.equal(apply(state, { timestamp: NOON, inverters: TWO() }).freshness, "live");
  const ahead = apply(
    state,
    { timestamp: "2026-12-03T14:00:00", powerW: 5, inverters: TWO(1) },
    "2026-12-03T12:05:00",
  );
  assert.equal(ahead.freshness, "ahead");
  assert.equal(ahead.count, "not_counted");
  assert.equal(state.ecus[ECU]?.powerW, 400, "live values unchanged");
  // Every later correct round is live again.
  for (let m = 5; m <= 60; m += 5) {
    const ts = plusMinutes(NOON, m);
    const outcome = apply(state, { timestamp: ts, inverters: TWO(50 + m) });
    assert.equal(outcome.freshness, "live", ts);
    assert.equal(state.ecus[ECU]?.lastRoundTimestamp, ts);
  }
  assert.equal(state.ecus[ECU]?.aheadRounds, 1);
});

test("a clock a few minutes ahead is still live (within MAX_AHEAD_MINUTES)", () => {
  const state = emptyState();
  const outcome = apply(state, { timestamp: "2026-12-03T12:08:00", inverters: TWO() }, NOON);
  assert.equal(outcome.freshness, "live");
});

test("resent and out-of-order rounds are counted once each; live values follow only the newest", () => {
  const state = emptyState();
  const times = [0, 5, 10, 15].map((m) => plusMinutes(NOON, m));
  apply(state, { timestamp: times[3] as string, inverters: TWO(100) });
  for (const ts of [times[1], times[0], times[3], times[2], times[1]] as string[]) {
    apply(state, { timestamp: ts, inverters: TWO(100) }, times[3]);
  }
  const inv = state.inverters["408000000001"];
  assert.equal(inv?.channels[0]?.lifetimeMWh, 4 * 8333);
  assert.equal(inv?.lifetimeMWh, 8 * 8333);
  assert.equal(state.ecus[ECU]?.energyTodayMWh, 16 * 8333);
  assert.equal(state.ecus[ECU]?.lastRoundTimestamp, times[3]);
  assert.deepEqual(
    state.ecus[ECU]?.todayRounds.map((r) => r[0]),
    times,
    "today's chart in ECU-time order",
  );
});

test("lifetime energy: a single bogus high reading is never taken, and real readings go on", () => {
  const state = emptyState();
  apply(state, { timestamp: NOON, lifetimeKWh: 1000, inverters: TWO() });
  const spike = apply(state, {
    timestamp: plusMinutes(NOON, 5),
    lifetimeKWh: 99_999,
    inverters: TWO(),
  });
  assert.equal(spike.lifetime?.taken, false);
  assert.equal(state.ecus[ECU]?.lifetimeEnergyKWh, 1000);
  const next = apply(state, {
    timestamp: plusMinutes(NOON, 10),
    lifetimeKWh: 1000.1,
    inverters: TWO(),
  });
  assert.equal(next.lifetime?.taken, true);
  assert.equal(state.ecus[ECU]?.lifetimeEnergyKWh, 1000.1);
  assert.equal(state.ecus[ECU]?.lifetimeCandidate, null);
});

test("lifetime energy: a rise the inverters could not produce in the time is held back", () => {
  const state = emptyState();
  apply(state, { timestamp: NOON, lifetimeKWh: 1000, inverters: TWO() });
  // Two YC600s (≤ 900 W DC each) make at most 0.15 kWh in 5 minutes (10 minutes minimum: 0.3).
  const held = apply(state, {
    timestamp: plusMinutes(NOON, 5),
    lifetimeKWh: 1001,
    inverters: TWO(),
  });
  assert.equal(held.lifetime?.taken, false);
  const ok = apply(state, {
    timestamp: plusMinutes(NOON, 10),
    lifetimeKWh: 1000.4,
    inverters: TWO(),
  });
  assert.equal(ok.lifetime?.taken, true);
});

test("lifetime energy: a counter restart confirmed by three rounds is followed; one low reading is not", () => {
  const state = emptyState();
  apply(state, { timestamp: NOON, lifetimeKWh: 1000, inverters: TWO() });
  const dip = apply(state, { timestamp: plusMinutes(NOON, 5), lifetimeKWh: 3, inverters: TWO() });
  assert.equal(dip.lifetime?.taken, false);
  apply(state, { timestamp: plusMinutes(NOON, 10), lifetimeKWh: 1000.1, inverters: TWO() });
  assert.equal(state.ecus[ECU]?.lifetimeEnergyKWh, 1000.1, "the dip was an outlier");
  const r1 = apply(state, { timestamp: plusMinutes(NOON, 15), lifetimeKWh: 0.1, inverters: TWO() });
  const r2 = apply(state, { timestamp: plusMinutes(NOON, 20), lifetimeKWh: 0.1, inverters: TWO() });
  assert.equal(r1.lifetime?.taken, false);
  assert.equal(r2.lifetime?.taken, false);
  assert.equal(state.ecus[ECU]?.lifetimeEnergyKWh, 1000.1);
  const r3 = apply(state, { timestamp: plusMinutes(NOON, 25), lifetimeKWh: 0.2, inverters: TWO() });
  assert.deepEqual(r3.lifetime, { taken: true, change: "reset", fromKWh: 1000.1 });
  assert.equal(state.ecus[ECU]?.lifetimeEnergyKWh, 0.2);
  const after = apply(state, {
    timestamp: plusMinutes(NOON, 30),
    lifetimeKWh: 0.3,
    inverters: TWO(),
  });
  assert.equal(after.lifetime?.taken, true);
});

test("header power beyond what the inverters can deliver is shown as unknown, not as a number", () => {
  const state = emptyState();
  // The W×100 header read as plain W: 19,000 W from two YC600s (bound 2 × 900 W).
  const outcome = apply(state, { timestamp: NOON, powerW: 19_000, inverters: TWO(95) });
  assert.deepEqual(outcome.powerRefused, { powerW: 19_000, maxW: 1800 });
  assert.equal(state.ecus[ECU]?.powerW, null);
  assert.equal(state.ecus[ECU]?.maxPowerTodayW, null);
  // With no decodable record the bound comes from the inverters the ECU says are online.
  const empty = emptyState();
  const none = apply(empty, { timestamp: NOON, powerW: 19_000, invertersOnline: 2, inverters: [] });
  assert.equal(none.powerRefused?.maxW, 6000);
  assert.equal(empty.ecus[ECU]?.powerW, null);
});

test("a record with impossible values is ignored; its siblings are taken", () => {
  const state = emptyState();
  const outcome = apply(state, {
    timestamp: NOON,
    powerW: 200,
    inverters: [
      { uid: "408000000001", panels: [{ powerW: 100 }, { powerW: 100 }] },
      { uid: "408000000002", panels: [{ powerW: 99_999 }, { powerW: 1 }] },
    ],
  });
  assert.equal(outcome.implausible.length, 1);
  assert.equal(outcome.implausible[0]?.uid, "408000000002");
  assert.equal(state.inverters["408000000002"], undefined);
  assert.equal(state.inverters["408000000001"]?.online, true);
});

test("round energy beyond what an inverter can make in the round's time span is not counted", () => {
  const state = emptyState();
  apply(state, { timestamp: NOON, inverters: TWO() });
  const outcome = apply(state, {
    timestamp: plusMinutes(NOON, 5),
    inverters: [
      {
        uid: "408000000001",
        panels: [
          { powerW: 100, energyWh: 500 },
          { powerW: 100, energyWh: 500 },
        ],
      },
      { uid: "408000000002", panels: [{ powerW: 100 }, { powerW: 100 }] },
    ],
  });
  assert.equal(outcome.energyRefused[0]?.uid, "408000000001");
  assert.equal(state.inverters["408000000001"]?.lifetimeMWh, 2 * 8333);
  assert.equal(state.inverters["408000000002"]?.lifetimeMWh, 4 * 8333);
});

test("max_inverters_per_ecu: inverters beyond the limit are not tracked", () => {
  const state = emptyState();
  const inverters = Array.from({ length: 5 }, (_, i) => ({
    uid: `40800000000${i}`,
    panels: [{ powerW: 10 }, { powerW: 10 }],
  }));
  const outcome = apply(state, { timestamp: NOON, inverters }, NOON, {
    maxInvertersPerEcu: 3,
  });
  assert.equal(Object.keys(state.inverters).length, 3);
  assert.deepEqual(outcome.overLimit, ["408000000003", "408000000004"]);
  assert.equal(state.ecus[ECU]?.invertersOnline, 3, "the header's count is bounded too");
});

test("3-phase inverters keep every phase's voltage", () => {
  const state = emptyState();
  apply(state, {
    timestamp: NOON,
    inverters: [
      {
        uid: "501000000001",
        model: "YC1000",
        typeCode: "04",
        panels: [{ powerW: 100 }, { powerW: 100 }, { powerW: 100 }, { powerW: 100 }],
        phaseVoltagesV: [230, 231, 229],
      },
    ],
  });
  assert.deepEqual(state.inverters["501000000001"]?.phaseVoltagesV, [230, 231, 229]);
});
