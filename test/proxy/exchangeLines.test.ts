import assert from "node:assert/strict";
import { test } from "node:test";
import { ExchangeLines } from "../../src/proxy/exchangeLines.js";
import { captureLogs } from "../helpers/logs.js";

const LIMITS = { linesPerWindow: 3, windowMs: 60_000, roundsRemembered: 2 };
const ECU = "216000064136";

function lines() {
  const logs = captureLogs("info");
  let now = 1_000_000;
  const budget = new ExchangeLines(logs.logger, LIMITS, () => now);
  return { logs, budget, advance: (ms: number) => (now += ms) };
}

test("a round is logged once; a resend is counted, and the count written when the minute is over", () => {
  const { logs, budget, advance } = lines();
  assert.equal(budget.upload(ECU, "2024-02-06T11:22:14", true), true);
  assert.equal(budget.upload(ECU, "2024-02-06T11:22:14", true), false, "the resend");
  assert.equal(budget.upload("216000064137", "2024-02-06T11:22:14", true), true, "another ECU");
  assert.equal(logs.lines.length, 0, "nothing said yet");
  advance(LIMITS.windowMs);
  assert.equal(budget.line(), true);
  assert.equal(logs.lines.length, 1);
  assert.equal(
    logs.lines[0]?.msg,
    "… 1 exchange lines suppressed in the last minute: 1 resends of rounds already logged, 0 beyond the limit of 3 lines a minute",
  );
  budget.flush();
  assert.equal(logs.lines.length, 1, "no count line when nothing was held back");
});

test("a round answered unconfirmed is logged again when resent; beyond the limit lines are counted", () => {
  const { logs, budget } = lines();
  assert.equal(budget.upload(ECU, "2024-02-06T11:25:00", false), true);
  assert.equal(budget.upload(ECU, "2024-02-06T11:25:00", false), true, "resent, still unconfirmed");
  assert.equal(budget.upload(ECU, "2024-02-06T11:25:00", true), true, "resent and confirmed");
  assert.equal(budget.upload(ECU, "2024-02-06T11:30:00", true), false, "a 4th line in the minute");
  assert.equal(budget.line(), false);
  budget.flush();
  assert.deepEqual(
    logs.lines.map((l) => [l.suppressed, l.resent, l.overLimit]),
    [[2, 0, 2]],
  );
});

test("the rounds remembered are bounded: one forgotten is logged again", () => {
  const { budget, advance } = lines();
  for (const t of ["11:00", "11:05", "11:10"]) budget.upload(ECU, t, true);
  advance(LIMITS.windowMs);
  assert.equal(budget.upload(ECU, "11:10", true), false, "remembered");
  assert.equal(budget.upload(ECU, "11:00", true), true, `only ${LIMITS.roundsRemembered} kept`);
});
