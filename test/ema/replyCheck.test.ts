import assert from "node:assert/strict";
import { test } from "node:test";
import { inspectControlAnswer, isFirmwareTransfer } from "../../src/ema/guard.js";
import { answerState, splitApsFrames } from "../../src/ema/replyCheck.js";
import { noCommandsAnswer } from "../../src/protocol/answers/controlPoll.js";
import { NO_FILE_ANSWER } from "../../src/protocol/answers/firmwareQuery.js";
import { STATUS_ANSWER } from "../../src/protocol/answers/statusQuery.js";
import { commandFrame } from "../helpers/ema.js";
import { ECU_ID, firmwareQuery } from "../helpers/fixtures.js";

const b = (text: string) => Buffer.from(text, "latin1");
const NO_COMMANDS = noCommandsAnswer(ECU_ID);

test("answerState: each known answer format is incomplete until whole, then complete", () => {
  for (const whole of [
    b("10120240206111714"),
    b("100"),
    b("1022024020611171420240206112214"),
    NO_COMMANDS,
    STATUS_ANSWER,
    NO_FILE_ANSWER,
  ]) {
    for (let n = 1; n < whole.length; n++) {
      assert.equal(answerState(whole.subarray(0, n)), "incomplete", `${whole} cut at ${n}`);
    }
    assert.equal(answerState(whole), "complete", whole.toString("latin1"));
    assert.equal(answerState(Buffer.concat([whole, b("\n")])), "complete", "with a trailing LF");
  }
  assert.equal(answerState(Buffer.alloc(0)), "incomplete");

  // A status answer followed by a command frame: complete at the frame boundary, incomplete
  // inside the second frame (the relay's quiet pause is what waits for a second frame).
  const two = Buffer.concat([STATUS_ANSWER, commandFrame(ECU_ID, "A136")]);
  assert.equal(answerState(two.subarray(0, STATUS_ANSWER.length)), "complete");
  for (let n = STATUS_ANSWER.length + 1; n < two.length; n++) {
    assert.equal(answerState(two.subarray(0, n)), "incomplete", `cut at ${n}`);
  }
  assert.equal(answerState(two), "complete");
});

test("answerState: formats it does not know are 'unknown' (a quiet pause ends them)", () => {
  for (const other of ['{"F":"1","DN":"00"}', "hello", "1xx", "APX13", "APS13ZZZZZ"]) {
    assert.equal(answerState(b(other)), "unknown", other);
  }
  assert.equal(answerState(Buffer.concat([NO_COMMANDS, b("junk")])), "unknown");
});

test("splitApsFrames: frames, line ends between them, and the rest", () => {
  const two = Buffer.concat([STATUS_ANSWER, b("\r\n"), NO_COMMANDS]);
  const { frames, incomplete, rest } = splitApsFrames(two);
  assert.deepEqual(frames, [STATUS_ANSWER, NO_COMMANDS]);
  assert.equal(incomplete, false);
  assert.equal(rest.length, 0);
  assert.equal(splitApsFrames(NO_COMMANDS.subarray(0, 20)).incomplete, true);
});

test("inspectControlAnswer: A100 and A123 answers carry no command; anything else is one", () => {
  assert.deepEqual(inspectControlAnswer(NO_COMMANDS), { commands: [], safe: [NO_COMMANDS] });
  assert.deepEqual(inspectControlAnswer(Buffer.concat([NO_COMMANDS, b("\n")])).commands, []);
  assert.deepEqual(inspectControlAnswer(STATUS_ANSWER).commands, []);
  assert.deepEqual(inspectControlAnswer(commandFrame(ECU_ID, "A136")).commands, ["A136"]);
  const appended = inspectControlAnswer(
    Buffer.concat([STATUS_ANSWER, commandFrame(ECU_ID, "A111")]),
  );
  assert.deepEqual(appended, { commands: ["A111"], safe: [STATUS_ANSWER] });
  // A command in bytes 10..13 itself (not an A101 answer).
  assert.deepEqual(inspectControlAnswer(b("APS1300033A107AAA0216000064136END")).commands, ["A107"]);
  // Bytes after the frames that cannot be read are treated as a command: blocked.
  assert.deepEqual(inspectControlAnswer(Buffer.concat([NO_COMMANDS, b("A136")])).commands, [
    "unrecognised",
  ]);
  // Upload/sync answers are not control answers.
  assert.deepEqual(inspectControlAnswer(b("10120240206111714")).commands, []);
});

test("isFirmwareTransfer: ECU11 frames only", () => {
  assert.equal(isFirmwareTransfer(firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin")), true);
  assert.equal(isFirmwareTransfer(NO_COMMANDS), false);
});
