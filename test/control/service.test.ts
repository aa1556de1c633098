/**
 * The command lifecycle on a clock (issue 19): what is never polled for, or never acknowledged,
 * turns "not delivered"; timestamps stay unique; a late A117 report is not taken as ours.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { InverterControl } from "../../src/control/service.js";
import { readControlAnswer } from "../../src/protocol/answers/controlPoll.js";
import { captureLogger } from "../helpers/haHarness.js";

const ECU = "216000000000";
const UID = "408000000001";
const MIN = 60_000;

function setup() {
  const { logger, lines } = captureLogger();
  const control = new InverterControl({
    devices: {
      inverter: (uid) => (uid === UID ? { ecuId: ECU, model: "YC600" } : undefined),
      inverterUids: (ecuId) => (ecuId === ECU ? [UID] : []),
    },
    logger,
    deliverWithinMs: 35 * MIN,
    ackWithinMs: 2 * MIN,
    // A clock stuck in one second: the queue must still make every timestamp unique.
    stamp: () => "20260101120000",
  });
  // The first poll after start asks for the power limits; take it out of the way.
  const a117 = control.answerPoll(ECU, 0);
  assert.deepEqual(a117 && readControlAnswer(a117, ECU), { command: "A117" });
  return { control, lines };
}

test("a change the ECU never polls for is given up after inverter_control_timeout_minutes", () => {
  const { control, lines } = setup();
  control.request({ target: "inverter", uid: UID, setting: "on", payload: "OFF" }, 0);
  control.expire(35 * MIN);
  assert.equal(control.inverterView(UID).on_status, "queued", "35 minutes is still in time");
  control.expire(35 * MIN + 1);
  const view = control.inverterView(UID);
  assert.equal(view.on_status, "not_delivered");
  assert.match(String(view.on_detail), /did not poll within 35 minutes/);
  assert.equal(view.on, null, "nothing confirmed");
  assert.equal(control.answerPoll(ECU, 36 * MIN), null, "and it is not sent late");
  assert.ok(lines.some((l) => l.level === 40 && String(l.msg).includes("not delivered")));
});

test("a command sent but never acknowledged turns not delivered after 2 minutes", () => {
  const { control } = setup();
  control.request({ target: "inverter", uid: UID, setting: "power_limit", payload: "200" }, 0);
  assert.ok(control.answerPoll(ECU, 1000));
  assert.equal(control.inverterView(UID).power_limit_status, "pending");
  control.expire(1000 + 2 * MIN + 1);
  assert.equal(control.inverterView(UID).power_limit_status, "not_delivered");
  assert.match(String(control.inverterView(UID).power_limit_detail), /did not acknowledge/);
});

test("timestamps are unique per ECU even within one second, and are the acknowledgement's key", () => {
  const { control } = setup();
  control.request({ target: "inverter", uid: UID, setting: "on", payload: "OFF" }, 0);
  control.request({ target: "inverter", uid: UID, setting: "power_limit", payload: "100" }, 0);
  const first = control.answerPoll(ECU, 10)?.toString("latin1") ?? "";
  const second = control.answerPoll(ECU, 20)?.toString("latin1") ?? "";
  const [t1, t2] = [first.slice(35, 49), second.slice(35, 49)];
  assert.notEqual(t1, t2);
  // An acknowledgement with the other command's timestamp confirms nothing.
  const ack = (command: string, stamp: string) => ({
    type: "control_ack" as const,
    ecuId: ECU,
    command,
    timestamp: stamp,
    result: "0",
  });
  assert.equal(control.handleAck(ack("A111", t2), 30), false);
  assert.equal(control.handleAck(ack("A111", t1), 30), true);
  assert.equal(control.inverterView(UID).on, "OFF");
  assert.equal(control.inverterView(UID).power_limit_status, "pending");
});

test("an A117 report long after the proxy asked is not taken for its own", () => {
  const { control } = setup();
  const report = (now: number) =>
    control.handleReport(
      {
        type: "max_power_report",
        ecuId: ECU,
        count: 1,
        entries: [{ uid: UID, limitW: 150, minW: 20, maxW: 300 }],
        unparsed: [],
        raw: "",
      },
      now,
    );
  assert.equal(report(11 * MIN), false);
  assert.equal(control.range(UID).source, "rating");
  assert.equal(report(5 * MIN), true);
  assert.deepEqual(control.range(UID), { min: 20, max: 300, source: "ecu" });
  assert.equal(control.inverterView(UID).power_limit, 150);
});
