import assert from "node:assert/strict";
import { test } from "node:test";
import { applyUpload } from "../../src/devices/applyUpload.js";
import { type DevicesState, emptyState } from "../../src/devices/model.js";
import { MISSING_ROUNDS, WEAK_ROUNDS } from "../../src/devices/problems.js";
import { ecuTimestampToEpoch, localDate } from "../../src/zoneTime.js";
import { type InverterRound, plusMinutes, upload, ZONE } from "./rounds.js";

const UIDS = ["806000000001", "806000000002", "806000000003", "806000000004"];

function apply(state: DevicesState, timestamp: string, inverters: InverterRound[]) {
  const roundAtMs = ecuTimestampToEpoch(timestamp, ZONE);
  const nowMs = roundAtMs + 3000;
  return applyUpload(state, upload({ timestamp, inverters }), {
    nowMs,
    today: localDate(nowMs, ZONE),
    zone: ZONE,
    stampMs: roundAtMs,
    liveWindowMs: 15 * 60_000,
    maxInvertersPerEcu: 100,
    weakRatio: 0.25,
  });
}

/** A clear winter day's bell curve, 08:30–16:30, with clouds and ±10% panel spread. */
function dayPower(minuteOfDay: number, panel: number, round: number): number {
  const x = (minuteOfDay - 750) / 240;
  const sun = Math.max(0, 300 * Math.exp(-x * x * 2));
  const cloud = round % 17 < 4 ? 0.3 : 1;
  const spread = 1 + ((panel * 7 + round * 3) % 21) / 100 - 0.1;
  return Math.round(sun * cloud * spread * 100) / 100;
}

function flags(state: DevicesState) {
  return UIDS.flatMap((uid) => {
    const inv = state.inverters[uid];
    if (!inv) return [];
    return [
      ...(inv.missing ? [`${uid} missing`] : []),
      ...(inv.weak ? [`${uid} weak`] : []),
      ...inv.channels.flatMap((c, i) => (c.weak ? [`${uid}/${i + 1} weak`] : [])),
    ];
  });
}

function simulateDay(
  state: DevicesState,
  date: string,
  shape: (uid: string, panel: number, w: number, round: number) => number | undefined,
) {
  let round = 0;
  for (let minute = 8 * 60 + 30; minute <= 16 * 60 + 30; minute += 5, round++) {
    const ts = plusMinutes(`${date}T00:00:00`, minute);
    const inverters: InverterRound[] = [];
    for (const [i, uid] of UIDS.entries()) {
      const panels = [0, 1, 2, 3].map((p) =>
        shape(uid, p, dayPower(minute, i * 4 + p, round), round),
      );
      if (panels.some((w) => w === undefined)) continue;
      inverters.push({ uid, panels: panels.map((w) => ({ powerW: w as number })) });
    }
    // The ECU stops uploading when nothing produces (night): no round at all.
    if (inverters.every((inv) => inv.panels.every((p) => p.powerW === 0))) continue;
    apply(state, ts, inverters);
  }
}

test("a whole day of normal rounds (clouds, dawn, dusk, panel spread) raises no problem", () => {
  const state = emptyState();
  simulateDay(state, "2026-12-03", (_uid, _p, w) => w);
  assert.deepEqual(flags(state), []);
  // The night that follows sends nothing; the next day starts clean too.
  simulateDay(state, "2026-12-04", (_uid, _p, w) => w);
  assert.deepEqual(flags(state), []);
});

test("an inverter missing from rounds while its siblings produce turns its problem sensor on", () => {
  const state = emptyState();
  const start = "2026-12-03T12:00:00";
  const all = UIDS.map((uid) => ({ uid, panels: [1, 2, 3, 4].map(() => ({ powerW: 200 })) }));
  apply(state, start, all);
  for (let r = 1; r <= MISSING_ROUNDS; r++) {
    apply(state, plusMinutes(start, r * 5), all.slice(1));
    assert.equal(state.inverters[UIDS[0] as string]?.missing, r >= MISSING_ROUNDS, `round ${r}`);
  }
  assert.deepEqual(flags(state), [`${UIDS[0]} missing`]);
  apply(state, plusMinutes(start, 30), all);
  assert.deepEqual(flags(state), [], "back: the flag clears");
});

test("a panel far below its siblings round after round is flagged weak; an inverter whose panels all are, too", () => {
  const state = emptyState();
  simulateDay(state, "2026-12-03", (uid, p, w) => (uid === UIDS[1] && p === 2 ? w * 0.1 : w));
  assert.deepEqual(flags(state), [`${UIDS[1]}/3 weak`]);
  const dead = emptyState();
  simulateDay(dead, "2026-12-03", (uid, _p, w) => (uid === UIDS[2] ? w * 0.05 : w));
  assert.deepEqual(flags(dead), [
    `${UIDS[2]} weak`,
    `${UIDS[2]}/1 weak`,
    `${UIDS[2]}/2 weak`,
    `${UIDS[2]}/3 weak`,
    `${UIDS[2]}/4 weak`,
  ]);
});

test("weak needs WEAK_ROUNDS judged rounds in a row, and dim rounds judge nothing", () => {
  const state = emptyState();
  const start = "2026-12-03T12:00:00";
  const round = (w: number, weak: number) =>
    UIDS.map((uid, i) => ({
      uid,
      panels: [1, 2, 3, 4].map((p) => ({ powerW: i === 0 && p === 1 ? weak : w })),
    }));
  for (let r = 0; r < WEAK_ROUNDS - 1; r++) apply(state, plusMinutes(start, r * 5), round(200, 5));
  assert.deepEqual(flags(state), []);
  // Dusk: the median input makes 10 W; the weak panel's 0 W says nothing.
  apply(state, plusMinutes(start, 60), round(10, 0));
  assert.deepEqual(flags(state), []);
  apply(state, plusMinutes(start, 65), round(200, 5));
  assert.deepEqual(flags(state), [`${UIDS[0]}/1 weak`]);
});
