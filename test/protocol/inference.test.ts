/**
 * Layout inference for records of unknown type code (issue 20, layouts/inference.ts), on the
 * real 2024 capture: its YC600 (type 07) and QS1 (type 08) records with the type code replaced
 * by every code the decoder does not know and the uid moved to another family.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFrame } from "../../src/protocol/decode.js";
import { INVERTER_LAYOUTS } from "../../src/protocol/layouts/index.js";
import type { Inverter, UploadMessage } from "../../src/protocol/types.js";
import { uploadFrame } from "../helpers/fixtures.js";

const capture = uploadFrame().toString("latin1");
/** The capture's two records (without their END), at the offsets §3.4 gives. */
const YC600 = capture.slice(86, 86 + 85);
const QS1 = capture.slice(86 + 88, 86 + 88 + 125);
const original = decodeFrame(uploadFrame()) as UploadMessage;

/** Every two-digit code the decoder has no layout for. */
const UNUSED = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0")).filter(
  (code) => !Object.hasOwn(INVERTER_LAYOUTS, code),
);

/** The capture with its records replaced (length field and inverter count kept right). */
function upload(records: string[]): UploadMessage {
  const body = `${records.join("END")}END`;
  const header = capture
    .slice(10, 86)
    .replace("002000000END", `${String(records.length).padStart(3, "0")}000000END`);
  const length = 10 + header.length + body.length;
  const text = `APS18${String(length).padStart(5, "A")}${header}${body}`;
  const message = decodeFrame(Buffer.from(text, "latin1"));
  assert.equal(message.type, "upload", JSON.stringify(message));
  return message as UploadMessage;
}

/** A record with its uid prefix and type code replaced. */
function recode(record: string, prefix: string, code: string): string {
  return prefix + record.slice(prefix.length, 12) + code + record.slice(14);
}

/** What a record measures: everything but who it is and how it was read. */
function readings(inv: Inverter | undefined): unknown {
  assert.ok(inv);
  const { uid: _u, typeCode: _t, model: _m, layoutInferred: _l, ...rest } = inv;
  return rest;
}

/** The record put at `offset` (record-relative) with `value` of the same width. */
function put(record: string, offset: number, value: string): string {
  return record.slice(0, offset) + value + record.slice(offset + value.length);
}

test("the unknown codes tried below are all but the five the firmware names", () => {
  assert.equal(UNUSED.length, 95);
  assert.ok(!UNUSED.includes("07") && !UNUSED.includes("08"));
});

for (const prefix of ["703", "706"]) {
  test(`a ${prefix}… record of every unknown type code decodes as the YC600 record, marked inferred`, () => {
    const want = readings(original.inverters[0]);
    for (const code of UNUSED) {
      const message = upload([recode(YC600, prefix, code), QS1]);
      const inv = message.inverters[0];
      assert.deepEqual(readings(inv), want, `code ${code}`);
      assert.equal(inv?.layoutInferred, "07", `code ${code}`);
      assert.equal(inv?.model, "DS3");
      assert.equal(inv?.typeCode, code, "the record's own type code is kept");
      assert.equal(inv?.problem, undefined);
      assert.equal(inv?.raw, undefined);
      // Every record decoded, so the header power is confirmed by the channel sum again.
      assert.equal(message.ecu.powerW, 190);
      assert.equal(message.ecu.powerEncoding, "W");
      assert.deepEqual(
        message.notes.filter((n) => !n.includes("layout inferred")),
        [],
        `code ${code}`,
      );
      assert.equal(message.notes.filter((n) => n.includes("layout inferred")).length, 1);
      // The QS1 beside it is untouched.
      assert.deepEqual(message.inverters[1], original.inverters[1]);
    }
  });
}

test("a 4-input record (80x/90x/50x) of unknown type decodes with the QS1 layout when it is 125 chars", () => {
  const want = readings(original.inverters[1]);
  for (const prefix of ["801", "806", "90", "501"]) {
    for (const code of ["00", "09", "23", "99"]) {
      const inv = upload([YC600, recode(QS1, prefix, code)]).inverters[1];
      assert.deepEqual(readings(inv), want, `${prefix} ${code}`);
      assert.equal(inv?.layoutInferred, "08");
    }
  }
});

test("a record whose length fits no layout of its family's inputs stays raw", () => {
  const rows = [
    // 85 chars, two input blocks, but a QS1/QT2 uid: four inputs.
    { record: recode(YC600, "806", "12"), why: /QS1 record would be read as type 08 at 125/ },
    { record: recode(YC600, "90", "12"), why: /QT2 record would be read as type 08 at 125/ },
    // 125 chars, but a DS3 uid: two inputs.
    { record: recode(QS1, "703", "12"), why: /DS3 record would be read as type 07 at 85/ },
    // One input block short / one char long.
    { record: recode(YC600, "703", "12").slice(0, 84), why: /this one is 84/ },
    { record: `${recode(YC600, "703", "12")}0`, why: /this one is 86/ },
  ];
  for (const { record, why } of rows) {
    const inv = upload([record, QS1]).inverters[0];
    assert.equal(inv?.raw, record);
    assert.equal(inv?.layoutInferred, undefined);
    assert.deepEqual(inv?.channels, []);
    assert.match(inv?.problem ?? "", /^unknown type code '12' \(/);
    assert.match(inv?.problem ?? "", why);
  }
});

test("an unknown record whose values break a bound under the candidate layout stays raw", () => {
  const ds3 = recode(YC600, "703", "31");
  // Record offsets (§3.2): AC V 14+3, frequency ×10 17+5, temperature +100 22+3; input
  // blocks at 45 and 65: DC V ×10 +1..5, power W×100 +15..5.
  const rows = [
    { at: 14, value: "412", bound: /AC voltage 412 V is outside 80–300 V/ },
    { at: 14, value: "079", bound: /AC voltage 79 V/ },
    { at: 17, value: "00700", bound: /frequency 70 Hz is outside 45–65 Hz/ },
    { at: 17, value: "00449", bound: /frequency 44.9 Hz/ },
    { at: 22, value: "059", bound: /temperature -41 °C is outside -40–100 °C/ },
    { at: 22, value: "201", bound: /temperature 101 °C/ },
    { at: 46, value: "00801", bound: /channel 1 DC voltage 80.1 V is outside 0–80 V/ },
    { at: 66, value: "09999", bound: /channel 2 DC voltage 999.9 V/ },
    // 2 × 720.01 W > DS3 960 W × 1.5.
    { at: 60, value: "72001", bound: /power .* W is beyond 960 W × 1.5/ },
  ];
  for (const { at, value, bound } of rows) {
    let record = put(ds3, at, value);
    if (at === 60) record = put(record, 80, value);
    const message = upload([record, QS1]);
    const inv = message.inverters[0];
    assert.equal(inv?.raw, record, value);
    assert.deepEqual(inv?.channels, []);
    assert.equal(inv?.model, "DS3", "the uid still names the family");
    assert.match(inv?.problem ?? "", /^unknown type code '31' \(read as type 07 \(YC600\): /);
    assert.match(inv?.problem ?? "", bound);
    assert.match(message.notes.join("\n"), /kept raw: unknown type code '31'/);
  }
  // The same values within bounds (edges included) are read.
  let edge = put(put(put(ds3, 14, "300"), 17, "00650"), 22, "060");
  edge = put(put(edge, 46, "00800"), 60, "72000");
  edge = put(edge, 80, "72000");
  const inv = upload([edge, QS1]).inverters[0];
  assert.equal(inv?.layoutInferred, "07", inv?.problem);
  assert.equal(inv?.acVoltageV, 300);
  assert.equal(inv?.temperatureC, -40);
});

test("an all-ones record of unknown type (85 chars) is refused by the bounds, not decoded", () => {
  // Channel markers 1 and 2 where type 07 has them, every other digit 1.
  const record = put(`703000123456${"99"}${"1".repeat(71)}`, 65, "2");
  const inv = upload([YC600, QS1, record]).inverters[2];
  assert.equal(inv?.raw, record);
  assert.match(inv?.problem ?? "", /frequency 1111.1 Hz is outside/);
});

test("a record of unknown type is not inferred without a family, a digit code or a known layout", () => {
  const rows = [
    { record: recode(YC600, "123", "12"), why: /names no inverter family/ },
    {
      record: recode(YC600, "601", "12"),
      why: /optimizer, unknown number of inputs: no layout to infer/,
    },
    { record: recode(YC600, "703", "1A"), why: /not two digits/ },
    { record: recode(YC600, "70x", "12"), why: /is not 12 digits/ },
    // A marker that is not where type 07 puts it: the record is not laid out that way.
    { record: put(recode(YC600, "703", "12"), 65, "7"), why: /channel 2 marker is '7'/ },
    { record: put(recode(YC600, "703", "12"), 71, "x"), why: /DC current is not a number/ },
  ];
  for (const { record, why } of rows) {
    const inv = upload([record, QS1]).inverters[0];
    assert.equal(inv?.raw, record, String(why));
    assert.equal(inv?.layoutInferred, undefined);
    assert.match(inv?.problem ?? "", why);
  }
});

test("a known type code with the wrong length is not re-read by inference", () => {
  // Type 03 (YC500, 103 chars) on a 125-char QS1 record: the known layout says no.
  const inv = upload([YC600, recode(QS1, "806", "03")]).inverters[1];
  assert.equal(inv?.problem, "type 03 records are 103 chars, this one is 125");
  assert.equal(inv?.layoutInferred, undefined);
});
