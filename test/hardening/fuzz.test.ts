import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { answerFor } from "../../src/protocol/answers/answerFor.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import { Framer } from "../../src/protocol/framer.js";
import type { DecodeErrorCode, MessageType } from "../../src/protocol/types.js";
import { UPLOAD_ANSWER, uploadFrame, uploadWire } from "../helpers/fixtures.js";
import {
  hugeLengthHeader,
  mutatedUpload,
  nonAscii,
  randomBytes,
  truncatedUpload,
  wrongLengthUpload,
} from "../helpers/hostile.js";

const TYPES = new Set<MessageType | "error">([
  "upload",
  "sync_request",
  "control_poll",
  "status_query",
  "status_report",
  "firmware_query",
  "unknown",
  "error",
]);
const CODES = new Set<DecodeErrorCode>([
  "bad_magic",
  "bad_length",
  "too_large",
  "truncated",
  "bad_timestamp",
  "bad_number",
  "bad_ecu_id",
  "missing_end",
  "unknown_type",
]);

const MAX = 64 * 1024;
let inputs = 0;

/** Decoder and framer on one input: typed result, never a throw, bounded buffer. */
function check(input: Buffer): void {
  inputs++;
  const result = decodeFrame(input);
  assert.ok(TYPES.has(result.type), result.type);
  if (result.type === "error") assert.ok(CODES.has(result.code), result.code);
  else answerFor(result);
  const framer = new Framer(MAX);
  for (const event of framer.push(input)) {
    if (event.kind === "frame") decodeFrame(event.frame);
  }
  assert.ok(framer.buffered <= MAX);
  // The stream recovers: a valid upload after the hostile bytes (and a line end) still frames.
  const after = framer.push(Buffer.concat([Buffer.from("\n"), uploadWire()]));
  const frames = after.filter((e) => e.kind === "frame");
  if (!frames.some((e) => e.kind === "frame" && e.frame.equals(uploadFrame()))) {
    // Only a declared length that swallows the upload may delay it: the framer is then
    // waiting for the rest of that frame, within the limit.
    assert.ok(framer.buffered > 0 && framer.buffered <= MAX, `buffered ${framer.buffered}`);
  }
}

const RUNS: Array<[string, fc.Arbitrary<Buffer>, number]> = [
  ["random bytes", randomBytes, 40_000],
  ["truncated real uploads", truncatedUpload, 10_000],
  ["mutated real uploads", mutatedUpload, 25_000],
  ["wrong length fields", wrongLengthUpload, 15_000],
  ["huge length fields", hugeLengthHeader, 5_000],
  ["non-ASCII", nonAscii, 5_000],
];

for (const [name, arbitrary, numRuns] of RUNS) {
  test(`decoder and framer survive ${numRuns} ${name}`, () => {
    fc.assert(fc.property(arbitrary, check), { numRuns });
  });
}

test("endless streams without a frame end are cut at the limit", () => {
  for (const fill of [0x78, 0x41, 0x7b, 0x00, 0xff]) {
    const framer = new Framer(MAX);
    let fatal = false;
    for (let i = 0; i < 2000 && !fatal; i++) {
      inputs++;
      fatal = framer.push(Buffer.alloc(1000, fill)).some((e) => e.kind === "error" && e.fatal);
      assert.ok(framer.buffered <= MAX + 1000);
    }
    assert.ok(fatal, `fill 0x${fill.toString(16)} never cut`);
  }
});

test("after all of it, the real upload still decodes and is answered", (t) => {
  const result = decodeFrame(uploadFrame());
  assert.equal(result.type, "upload");
  assert.equal(result.type === "upload" && answerFor(result)?.toString(), UPLOAD_ANSWER);
  t.diagnostic(`hostile inputs fed to decoder and framer: ${inputs}; crashes: 0; hangs: 0`);
  assert.ok(inputs >= 100_000, `only ${inputs} inputs`);
});
