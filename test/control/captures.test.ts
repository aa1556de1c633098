import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { buildControlCommand } from "../../src/protocol/answers/controlCommand.js";
import { noCommandsAnswer } from "../../src/protocol/answers/controlPoll.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { Message } from "../../src/protocol/types.js";
import { CaptureStore } from "../../src/status/captures.js";
import { captureLogger, exchangeOf, tempDir } from "../helpers/haHarness.js";

const ECU = "216000000000";
const POLL = Buffer.from(`APS1300051A101AAA0${ECU}A10100000000000000END`, "latin1");
const decoded = (frame: Buffer) => decodeFrame(frame) as Message;
const ack = (stamp: string) => Buffer.from(`APS1300052A100AAA0${ECU}A111${stamp}0END`, "latin1");

test("every command sent and every acknowledgement is kept in the captures, not just the latest", () => {
  const store = new CaptureStore({
    file: join(tempDir(), "captures.jsonl"),
    maxBytes: 1 << 20,
    logger: captureLogger().logger,
  });
  const poll = decoded(POLL);
  for (const stamp of ["20260101120000", "20260101121500"]) {
    const command = buildControlCommand(ECU, { kind: "switch_all", on: false }, stamp);
    store.handleExchange({ ...exchangeOf(poll), frame: POLL, answer: command });
    store.handleExchange({ ...exchangeOf(decoded(ack(stamp))), frame: ack(stamp) });
  }
  // A plain "no commands" poll stays a sample, replaced by the next one.
  store.handleExchange({ ...exchangeOf(poll), frame: POLL, answer: noCommandsAnswer(ECU) });
  store.handleExchange({ ...exchangeOf(poll), frame: POLL, answer: noCommandsAnswer(ECU) });
  const kept = store.list().map((e) => `${e.reason}:${e.kind}`);
  assert.deepEqual(kept, [
    "control:control_poll",
    "control:control_ack",
    "control:control_poll",
    "control:control_ack",
    "sample:control_poll",
  ]);
});
