import assert from "node:assert/strict";
import { test } from "node:test";
import { answerAccepted, answerFor } from "../../src/protocol/answers/answerFor.js";
import { readControlAnswer } from "../../src/protocol/answers/controlPoll.js";
import { encodeUpload } from "../../src/protocol/build.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import { declaredLength } from "../../src/protocol/frameLength.js";
import type { DecodeResult, UploadMessage } from "../../src/protocol/types.js";
import { ECU_ID, uploadFrame } from "../helpers/fixtures.js";

const frame = (text: string): Buffer => Buffer.from(text, "latin1");
const answerText = (r: DecodeResult): string | null =>
  r.type === "error" ? "error" : (answerFor(r)?.toString("latin1") ?? null);

/** One row per request kind: the frame the firmware sends (§5, §7) and the exact answer. */
const REQUESTS: Array<{ name: string; frame: string; type: string; answer: string | null }> = [
  {
    name: "nightly sync request APS13AAA22",
    frame: `APS13AAA22${ECU_ID}`,
    type: "sync_request",
    answer: "100",
  },
  {
    name: "nightly sync request, JSON form of later firmware",
    frame: `{"EID":"${ECU_ID}",}`,
    type: "sync_request",
    answer: "100",
  },
  {
    name: "8997 command poll A101",
    frame: `APS1300051A101AAA0${ECU_ID}A10100000000000000END`,
    type: "control_poll",
    answer: `APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`,
  },
  {
    name: "8997 command poll A101 with 'A'-padded length (older builder)",
    frame: `APS13AAA51A101AAA0${ECU_ID}A10100000000000000END`,
    type: "control_poll",
    answer: `APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`,
  },
  {
    name: "01:00 status query A123",
    frame: `APS13AAA51A123AAA0${ECU_ID}000000000000000000END`,
    type: "status_query",
    answer: "APS1300024A123AAA0100END",
  },
  {
    name: "A123 inverter status report",
    frame: (() => {
      const body = `0001${"20240206112214"}END408000111178070000000001END`;
      const length = 18 + 12 + body.length;
      return `APS15${String(length).padStart(5, "0")}A123AAA1${ECU_ID}${body}`;
    })(),
    type: "status_report",
    answer: "APS1300024A123AAA0100END",
  },
  {
    name: "the ECU's acknowledgement of a command — decoded, not answered",
    frame: `APS1300052A100AAA0${ECU_ID}A102202402061122140END`,
    type: "control_ack",
    answer: null,
  },
  {
    name: "unknown APS13 command — kept, not answered",
    frame: `APS1300048A119AAA0${ECU_ID}000000000000001END`,
    type: "unknown",
    answer: null,
  },
];

for (const row of REQUESTS) {
  test(`${row.name} → ${row.answer ?? "no answer"}`, () => {
    const result = decodeFrame(frame(row.frame));
    assert.equal(result.type, row.type, JSON.stringify(result));
    assert.equal(answerText(result), row.answer);
    if (row.answer?.startsWith("APS")) {
      // The ECU checks the length field against the exact byte count (no LF).
      assert.equal(declaredLength(row.answer, "APS"), row.answer.length);
    }
  });
}

test("status report fields", () => {
  const row = REQUESTS.find((r) => r.type === "status_report");
  const result = decodeFrame(frame(row?.frame ?? ""));
  assert.deepEqual(result, {
    type: "status_report",
    ecuId: ECU_ID,
    count: 1,
    timestamp: "2024-02-06T11:22:14",
    statuses: [{ uid: "408000111178", typeCode: "07", bits: "0000000001" }],
  });
});

/** Malformed frames: each yields a typed error naming what is wrong, never an exception. */
const sample = uploadFrame().toString("latin1");
const BROKEN: Array<{ name: string; text: string; code: string }> = [
  { name: "length field off by one", text: sample.replace("AA302", "AA303"), code: "bad_length" },
  { name: "length field not a number", text: sample.replace("AA302", "AAXYZ"), code: "bad_length" },
  {
    name: "month 13",
    text: sample.replace("20240206112214", "20241306112214"),
    code: "bad_timestamp",
  },
  {
    name: "30 February",
    text: sample.replace("20240206112214", "20240230112214"),
    code: "bad_timestamp",
  },
  {
    name: "letters in the ECU id",
    text: sample.replace(ECU_ID, "2160000X4136"),
    code: "bad_ecu_id",
  },
  {
    name: "letters in the power field",
    text: sample.replace("0000000190", "00000001X0"),
    code: "bad_number",
  },
  {
    name: "ECU section without END",
    text: sample.replace("000000END408", "000000EN0408"),
    code: "missing_end",
  },
  { name: "not a frame at all", text: "hello world", code: "bad_magic" },
  { name: "header only", text: "APS18AA010", code: "truncated" },
];

for (const row of BROKEN) {
  test(`malformed: ${row.name} → ${row.code}`, () => {
    const result = decodeFrame(frame(row.text));
    assert.equal(result.type, "error");
    assert.equal((result as { code: string }).code, row.code, JSON.stringify(result));
  });
}

test("an inverter with an unknown type code is kept raw, the others still decode", () => {
  const unknownRecord = `703000123456${"99"}${"1".repeat(71)}`;
  const body = `${sample.slice(86) + unknownRecord}END`;
  const header = sample.slice(10, 86).replace("002000000END", "003000000END");
  const text = `APS18${String(10 + header.length + body.length).padStart(5, "A")}${header}${body}`;
  const result = decodeFrame(frame(text)) as UploadMessage;
  assert.equal(result.type, "upload");
  assert.equal(result.inverters.length, 3);
  assert.equal(result.inverters[0]?.model, "YC600");
  assert.deepEqual(result.inverters[2], {
    uid: "703000123456",
    typeCode: "99",
    model: "DS3",
    channels: [],
    raw: unknownRecord,
    problem:
      "unknown type code '99' (read as type 07 (YC600): channel 2 marker is '1', expected '2')",
  });
  assert.equal(answerText(result), "10120240206112214");
});

test("a known record with a wrong length is kept raw with its problem", () => {
  const text = sample.replace("01800END806", "0180END806").replace("AA302", "AA301");
  const result = decodeFrame(frame(text)) as UploadMessage;
  assert.equal(result.type, "upload");
  assert.equal(result.inverters[0]?.problem, "type 07 records are 85 chars, this one is 84");
  assert.equal(result.inverters[1]?.channels.length, 4);
  assert.match(result.notes.join(), /kept raw/);
});

test("header power written as W×100 (2017/18 firmware) is recognised by the channel sum", () => {
  const text = sample.replace("0000000190", "0000019000");
  const result = decodeFrame(frame(text)) as UploadMessage;
  assert.equal(result.ecu.powerW, 190);
  assert.equal(result.ecu.powerEncoding, "Wx100");
});

test("header power disagreeing with the channels is noted (logged at debug)", () => {
  const text = sample.replace("0000000190", "0000000500");
  const result = decodeFrame(frame(text)) as UploadMessage;
  assert.equal(result.ecu.powerW, 500);
  assert.deepEqual(result.notes, ["header power 500 W disagrees with the channel sum 190 W"]);
});

test("fill-up records (00000001) decode as uploads", () => {
  const text = sample.replace("AAAAAAA1", "00000001").replace("AA302", "00302");
  const result = decodeFrame(frame(text)) as UploadMessage;
  assert.equal(result.type, "upload");
  assert.equal(result.fillUp, true);
});

test("encoding the decoded sample reproduces the captured bytes exactly", () => {
  const up = decodeFrame(uploadFrame()) as UploadMessage;
  const rebuilt = encodeUpload({
    ecuId: up.ecu.id,
    timestamp: up.ecu.timestamp.replace(/[^0-9]/g, ""),
    lifetimeEnergyKWh: up.ecu.lifetimeEnergyKWh,
    inverters: up.inverters.map((inv) => ({
      uid: inv.uid,
      typeCode: inv.typeCode as "07" | "08",
      acVoltageV: inv.acVoltageV ?? 0,
      frequencyHz: inv.frequencyHz ?? 0,
      temperatureC: inv.temperatureC ?? 0,
      channels: inv.channels,
    })),
  });
  assert.equal(rebuilt, sample);
});

test("'no commands': the observed 52-byte form is sent, the 51-byte form is still accepted", () => {
  const poll = decodeFrame(frame(`APS1300051A101AAA0${ECU_ID}A10100000000000000END`));
  assert.ok(poll.type === "control_poll");
  const accepted = (text: string) => answerAccepted(poll, frame(text));
  // What the ECU-R's server sent (2017 WiFi log), what the design sheet writes, what 0.2.0 sent.
  assert.ok(accepted(`APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`));
  assert.ok(accepted(`APS1300052A100AAA0${ECU_ID}A100000000000000000END`));
  assert.ok(accepted(`APS1300051A101AAA0${ECU_ID}A10000000000000000END`));
  assert.deepEqual(
    readControlAnswer(frame(`APS1300051A101AAA0${ECU_ID}A13620240206112214END`), ECU_ID),
    {
      command: "A136",
    },
  );
  assert.ok(!accepted(`APS1300051A101AAA0${ECU_ID}A13620240206112214END`), "a command");
  assert.ok(!accepted(`APS13AAA52A100AAA0216000000000A101000000000000000END`), "another id");
  assert.ok(!accepted(`APS13AAA52A100AAA0${ECU_ID}A101000000000000000END\n`), "LF: strlen 53");
  assert.ok(!accepted(`APS13AAA51A100AAA0${ECU_ID}A101000000000000000END`), "length off by one");
  const upload = decodeFrame(uploadFrame());
  assert.ok(upload.type === "upload");
  assert.ok(answerAccepted(upload, frame("10120240206112214")));
  assert.ok(!answerAccepted(upload, frame("10120240206111714")), "the previous record's time");
});
