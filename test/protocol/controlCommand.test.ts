/**
 * The commands the proxy builds are the frames APsystems' own servers sent (issue 19): the
 * 2017 test server's, read from the ECU-R dev unit's log, byte for byte.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  buildControlCommand,
  CONTROL_CODES,
  type ControlCommand,
  commandCode,
} from "../../src/protocol/answers/controlCommand.js";
import { readControlAnswer } from "../../src/protocol/answers/controlPoll.js";
import { decodeFrame } from "../../src/protocol/decode.js";

const DIR = "test/fixtures/captures/ecu-r-dev-2130/";
const lines = (name: string) => readFileSync(`${DIR}${name}`, "latin1").split("\n").filter(Boolean);
const SERVER = lines("ecu-r-dev-2130_fw-r17-doc-a118log_20170522_server-to-ecu.txt");
const ECU_SENT = lines("ecu-r-dev-2130_fw-r17-doc-a118log_20170522_ecu-to-server.txt");
const VECTORS = lines("ecu-r-dev_fw-r17-doc-remote-control-testvectors_20170524.txt");
const DEV = "213000000017";

test("A111 all on / all off and A110 all 100 W are the test server's frames, byte for byte", () => {
  const cases: Array<[ControlCommand, string]> = [
    [{ kind: "switch_all", on: true }, "20170524095139"],
    [{ kind: "switch_all", on: false }, "20170524103011"],
    [{ kind: "max_power_all", watts: 100 }, "20170524103040"],
  ];
  for (const [command, stamp] of cases) {
    const built = buildControlCommand(DEV, command, stamp).toString("latin1");
    assert.ok(SERVER.includes(built), `${built} is one of the server's frames`);
  }
});

test("the listed forms are the developers' vectors (their ids, their 0-padded length)", () => {
  const asSheet = (frame: Buffer) => frame.toString("latin1").replace(/^APS13AAA/, "APS13000");
  const stamp = "0".repeat(14);
  const id = "123456789013";
  const one = [{ uid: "201703150001", on: true }];
  assert.ok(
    VECTORS.includes(asSheet(buildControlCommand(id, { kind: "switch", inverters: one }, stamp))),
  );
  const limit = [{ uid: "201703150001", watts: 250 }];
  assert.ok(
    VECTORS.includes(
      asSheet(buildControlCommand(id, { kind: "max_power", inverters: limit }, stamp)),
    ),
  );
  assert.ok(
    VECTORS.includes(asSheet(buildControlCommand(id, { kind: "report_max_power" }, stamp))),
  );
});

test("the ECU reads each command as itself, and only A110/A111/A117 can be built", () => {
  const commands: ControlCommand[] = [
    { kind: "switch_all", on: false },
    { kind: "switch", inverters: [{ uid: "408000000001", on: false }] },
    { kind: "max_power_all", watts: 20 },
    { kind: "max_power", inverters: [{ uid: "408000000001", watts: 300 }] },
    { kind: "report_max_power" },
  ];
  for (const command of commands) {
    const frame = buildControlCommand(DEV, command, "20260101120000");
    const read = readControlAnswer(frame, DEV);
    assert.deepEqual(read, { command: commandCode(command) });
    assert.ok(CONTROL_CODES.includes(commandCode(command)));
  }
  assert.deepEqual([...CONTROL_CODES].sort(), ["A110", "A111", "A117"]);
});

test("values the fields cannot carry throw instead of producing a frame", () => {
  const stamp = "20260101120000";
  const bad: Array<[string, ControlCommand, string]> = [
    [DEV, { kind: "max_power", inverters: [{ uid: "408000000001", watts: 1000 }] }, stamp],
    [DEV, { kind: "max_power", inverters: [{ uid: "408000000001", watts: 2.5 }] }, stamp],
    [DEV, { kind: "switch", inverters: [{ uid: "40800000000X", on: true }] }, stamp],
    [DEV, { kind: "switch", inverters: [] }, stamp],
    [DEV, { kind: "switch_all", on: true }, "2026"],
    ["21300000001", { kind: "switch_all", on: true }, stamp],
  ];
  for (const [id, command, ts] of bad) {
    assert.throws(() => buildControlCommand(id, command, ts), RangeError);
  }
});

test("the dev unit's acknowledgements decode with command, echoed timestamp and result", () => {
  const acks = ECU_SENT.map((l) => decodeFrame(Buffer.from(l, "latin1"))).filter(
    (m) => m.type === "control_ack",
  );
  assert.equal(acks.length, 16, "every A100 line of the log");
  assert.deepEqual(
    acks.find((m) => m.command === "A110"),
    { type: "control_ack", ecuId: DEV, command: "A110", timestamp: "20170524103040", result: "0" },
  );
  assert.equal(acks.find((m) => m.command === "A127")?.result, "1");
  // The server's "no more commands" has the same shape but is not an ECU's acknowledgement.
  const noMore = decodeFrame(
    Buffer.from(`APS13AAA52A100AAA0${DEV}A101000000000000000END`, "latin1"),
  );
  assert.equal(noMore.type, "unknown");
});

test("an A117 report: entries in the known layout decode, others are kept raw", () => {
  const body = `0002${"0".repeat(14)}END408000000001250020300END806000000001-01020300END4080000XEND`;
  const text = `A117AAA0${DEV}${body}`;
  const frame = `APS13${String(10 + text.length).padStart(5, "0")}${text}`;
  const report = decodeFrame(Buffer.from(frame, "latin1"));
  assert.equal(report.type, "max_power_report");
  if (report.type !== "max_power_report") return;
  assert.deepEqual(report.entries, [
    { uid: "408000000001", limitW: 250, minW: 20, maxW: 300 },
    { uid: "806000000001", limitW: null, minW: 20, maxW: 300 },
  ]);
  assert.deepEqual(report.unparsed, ["4080000X"]);
});
