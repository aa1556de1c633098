import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeInverterRecord } from "../../src/protocol/decodeInverterRecord.js";
import { uploadFrame } from "../helpers/fixtures.js";

// Records assembled field by field from the firmware layouts in protocol.md §3.2 (no capture
// of these types is public), so each field's offset and scale is pinned.

test("type 05 (YC250, 1 input, signed text temperature)", () => {
  const record =
    "100000000001" +
    "05" +
    "230" +
    "00499" +
    "AB3" +
    "00000" +
    "01000" +
    "000000" +
    "A" +
    "00305" +
    "012" +
    "000850" +
    "01020" +
    "00000000000";
  assert.equal(record.length, 72);
  assert.deepEqual(decodeInverterRecord(record), {
    uid: "100000000001",
    typeCode: "05",
    model: "YC500", // uid prefix 10 names the family; type 05 selects the layout
    frequencyHz: 49.9,
    temperatureC: -3,
    acVoltageV: 230,
    activePowerRaw: "01000",
    channels: [{ powerW: 10.2, dcVoltageV: 30.5, dcCurrentA: 1.2, energyWh: 0.85 }],
  });
});

test("type 03 (YC500, inputs A and B)", () => {
  const block = (m: string, v: string) => `${m + v}0150010000450000000000000`;
  const record =
    "403000000002" +
    "03" +
    "231" +
    "00500" +
    "A25" +
    "00000" +
    "08000" +
    "000000" +
    block("A", "00310") +
    block("B", "00320");
  assert.equal(record.length, 103);
  const inv = decodeInverterRecord(record);
  assert.equal(inv.model, "YC500");
  assert.equal(inv.temperatureC, 25);
  assert.deepEqual(
    inv.channels.map((c) => c.dcVoltageV),
    [31, 32],
  );
  assert.deepEqual(inv.channels[1], { powerW: 45, dcVoltageV: 32, dcCurrentA: 1.5, energyWh: 1 });
});

test("type 04 (YC1000 3-phase: shared DC voltage, per-phase grid voltage)", () => {
  const phase = (m: string, gridV: string) => `${m}020${gridV}000000500000000000200006000`;
  const record =
    "501000000003" +
    "04" +
    "00350" +
    "00500" +
    "120" +
    phase("1", "230") +
    phase("2", "231") +
    phase("3", "232") +
    "4" +
    "021" +
    "002100" +
    "06100";
  assert.equal(record.length, 144);
  const inv = decodeInverterRecord(record);
  assert.equal(inv.problem, undefined);
  assert.equal(inv.model, "YC1000");
  assert.equal(inv.temperatureC, 20);
  assert.equal(inv.frequencyHz, 50);
  assert.equal(inv.acVoltageV, 230);
  assert.deepEqual(inv.phaseVoltagesV, [230, 231, 232]);
  assert.equal(inv.channels.length, 4);
  assert.deepEqual(inv.channels[3], { powerW: 61, dcVoltageV: 35, dcCurrentA: 2.1, energyWh: 2.1 });
});

test("a wrong channel marker keeps the record raw", () => {
  const good = uploadFrame()
    .toString("latin1")
    .slice(86, 86 + 85);
  assert.equal(decodeInverterRecord(good).problem, undefined);
  const bad = `${good.slice(0, 65)}7${good.slice(66)}`;
  assert.equal(decodeInverterRecord(bad).problem, "channel 2 marker is '7', expected '2'");
});
