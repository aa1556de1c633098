import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodeFrame } from "../../src/protocol/decode.js";
import { type FrameEvent, Framer } from "../../src/protocol/framer.js";
import type { UploadMessage } from "../../src/protocol/types.js";
import {
  bigUpload,
  ECU_ID,
  firmwareQuery,
  sampleBytes,
  uploadFrame,
  uploadWire,
} from "../helpers/fixtures.js";

const MAX = 64 * 1024;
const frames = (events: FrameEvent[]) =>
  events
    .filter((e) => e.kind === "frame")
    .map((e) => (e.kind === "frame" ? e.frame : Buffer.alloc(0)));
const errors = (events: FrameEvent[]) => events.filter((e) => e.kind === "error");

function feed(chunks: Buffer[], max = MAX): FrameEvent[] {
  const framer = new Framer(max);
  return chunks.flatMap((c) => framer.push(c));
}

function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(data.subarray(last, p));
    last = p;
  }
  parts.push(data.subarray(last));
  return parts;
}

/** Every sample that is a complete frame as published, on the wire with its LF where it has one. */
const WIRE_SAMPLES: Array<{ name: string; wire: Buffer; frame: Buffer }> = [
  { name: "ECU-R upload", wire: uploadWire(), frame: uploadFrame() },
  {
    name: "APS16 optimizer record",
    wire: Buffer.concat([
      sampleBytes("other/optimizer-ecu_2240_aps16_upload_58inv_20160922_debuglog.txt"),
      Buffer.from("\n"),
    ]),
    frame: sampleBytes("other/optimizer-ecu_2240_aps16_upload_58inv_20160922_debuglog.txt"),
  },
  {
    name: "ECU11 download query",
    wire: firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"),
    frame: firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"),
  },
  {
    name: "sync request",
    wire: Buffer.from(`APS13AAA22${ECU_ID}\n`),
    frame: Buffer.from(`APS13AAA22${ECU_ID}`),
  },
  {
    name: "JSON sync request",
    wire: Buffer.from(`{"EID":"${ECU_ID}",}\n`),
    frame: Buffer.from(`{"EID":"${ECU_ID}",}`),
  },
];

for (const s of WIRE_SAMPLES) {
  test(`${s.name}: whole, byte by byte, and in random splits`, () => {
    assert.deepEqual(frames(feed([s.wire])), [s.frame]);
    const bytes = [...s.wire].map((b) => Buffer.from([b]));
    assert.deepEqual(frames(feed(bytes)), [s.frame]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        const events = feed(splitAt(s.wire, cuts));
        assert.deepEqual(frames(events), [s.frame]);
        assert.deepEqual(errors(events), []);
      }),
      { numRuns: 300 },
    );
  });
}

test("every sample back to back in one write", () => {
  const all = Buffer.concat(WIRE_SAMPLES.map((s) => s.wire));
  assert.deepEqual(
    frames(feed([all])),
    WIRE_SAMPLES.map((s) => s.frame),
  );
});

test("a 100-inverter upload (> 1024 bytes) frames in random splits and decodes fully", () => {
  const text = bigUpload(100);
  assert.ok(text.length > 9000);
  const wire = Buffer.from(`${text}\n`, "latin1");
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
      const got = frames(feed(splitAt(wire, cuts)));
      assert.equal(got.length, 1);
      assert.equal(got[0]?.toString("latin1"), text);
    }),
    { numRuns: 100 },
  );
  const decoded = decodeFrame(Buffer.from(text, "latin1")) as UploadMessage;
  assert.equal(decoded.type, "upload");
  assert.equal(decoded.inverters.length, 100);
  assert.equal(decoded.ecu.invertersOnline, 100);
  assert.ok(decoded.inverters.every((inv) => inv.problem === undefined));
});

test("garbage before a valid upload is reported once and skipped", () => {
  const events = feed([Buffer.from("GET / HTTP/1.1\r\n"), uploadWire()]);
  assert.equal(errors(events).length, 1);
  assert.equal(errors(events)[0]?.kind === "error" && errors(events)[0]?.code, "bad_magic");
  assert.deepEqual(frames(events), [uploadFrame()]);
});

test("garbage without a line end is skipped up to the next frame start", () => {
  const events = feed([Buffer.from("xxxxxxxx"), uploadWire()]);
  assert.deepEqual(frames(events), [uploadFrame()]);
  assert.equal(errors(events).length, 1);
});

test("a wrong length field (LF before the declared length) is reported and the next frame survives", () => {
  const wrong = Buffer.from(uploadWire().toString("latin1").replace("AA302", "AA999"), "latin1");
  const events = feed([wrong, uploadWire()]);
  const errs = errors(events);
  assert.equal(errs.length, 1);
  assert.ok(errs[0]?.kind === "error" && errs[0].code === "bad_length" && !errs[0].fatal);
  assert.deepEqual(frames(events), [uploadFrame()]);
});

test("a length beyond the limit ends the stream (fatal), naming the option", () => {
  const events = feed([Buffer.from("APS1899999AAAAAAA1")], 64 * 1024);
  const err = errors(events)[0];
  assert.ok(err?.kind === "error" && err.code === "too_large" && err.fatal);
  assert.match(err.detail, /99999 bytes exceeds the 65536-byte limit \(option max_message_kib\)/);
});

test("an endless line with no frame end is cut off at the limit", () => {
  const framer = new Framer(4096);
  let fatal: FrameEvent | undefined;
  for (let i = 0; i < 100 && !fatal; i++) {
    fatal = framer.push(Buffer.alloc(100, 0x78)).find((e) => e.kind === "error" && e.fatal);
  }
  assert.ok(fatal);
  assert.ok(framer.buffered <= 4096);
});

test("random bytes never throw and never hold more than the limit", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
      const framer = new Framer(2048);
      for (const c of chunks) {
        for (const e of framer.push(Buffer.from(c))) {
          if (e.kind === "frame") decodeFrame(e.frame);
        }
        assert.ok(framer.buffered <= 2048 + 300);
      }
    }),
    { numRuns: 2000 },
  );
});
