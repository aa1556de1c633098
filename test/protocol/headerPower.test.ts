import assert from "node:assert/strict";
import { test } from "node:test";
import { readHeaderPower } from "../../src/protocol/headerPower.js";
import { ratedPowerW } from "../../src/protocol/models.js";
import type { Inverter } from "../../src/protocol/types.js";

/** A record kept raw (unknown type code): it names the inverter, no channel to cross-check. */
const raw = (uid: string): Inverter => ({
  uid,
  typeCode: "01",
  model: "unknown",
  channels: [],
  raw: "",
  problem: "unknown type code '01'",
});
/** A decoded QS1 delivering 155 W. */
const qs1: Inverter = {
  uid: "806000011223",
  typeCode: "08",
  model: "QS1",
  channels: [29, 38, 45, 43].map((powerW) => ({
    powerW,
    dcVoltageV: 33,
    dcCurrentA: 1,
    energyWh: 1,
  })),
};
const TWO_RAW = [raw("408000111178"), raw("806000011223")];
const read = (ecuId: string, power: number, inverters: Inverter[], fillUp = false) =>
  readHeaderPower({ raw: power, ecuId, fillUp, invertersOnline: inverters.length, inverters });

test("nameplate ratings by model or by EMA type code; none for what the decoder does not know", () => {
  assert.equal(ratedPowerW("QS1"), 1225);
  assert.equal(ratedPowerW("08"), 1225);
  assert.equal(ratedPowerW("07"), 600);
  assert.equal(ratedPowerW("DS3"), 960);
  assert.equal(ratedPowerW("YC1000"), 1000);
  assert.equal(ratedPowerW("optimizer"), undefined);
  assert.equal(ratedPowerW("unknown"), undefined);
  assert.equal(ratedPowerW("99"), undefined);
  assert.equal(ratedPowerW("toString"), undefined);
});

test("no record to cross-check, a reading too large for the site: the other one, noted", () => {
  // protocol-update-2026-12.md §3: the FW-ECU3 header on the 2024 capture, records unreadable.
  const got = read("216000064136", 19000, TWO_RAW);
  assert.equal(got.powerW, 190);
  assert.equal(got.encoding, "Wx100");
  assert.deepEqual(got.notes, [
    "header power read as W × 100 (190 W): as plain W it would be 19000 W, more than 2 inverter(s) can deliver (3675 W)",
  ]);
});

test("no record to cross-check, both readings possible: the ECU family's encoding, noted", () => {
  const linux = read("215000000001", 1500, TWO_RAW);
  assert.deepEqual([linux.powerW, linux.encoding], [15, "Wx100"]);
  assert.match(
    linux.notes.join(),
    /not confirmed by any inverter record: the ECU-C firmware family/,
  );
  assert.deepEqual(read("216200000001", 1500, TWO_RAW).powerW, 15, "ECU-R Pro is Linux too");
  const rtThread = read("216000064136", 1500, TWO_RAW);
  assert.deepEqual([rtThread.powerW, rtThread.encoding], [1500, "W"]);
  assert.deepEqual(read("216300000001", 1500, TWO_RAW).powerW, 1500, "ECU-B as the ECU-R");
  const unknownFamily = read("213000000017", 1500, TWO_RAW);
  assert.deepEqual([unknownFamily.powerW, unknownFamily.encoding], [1500, "W"]);
  assert.match(unknownFamily.notes.join(), /the only real capture has it so/);
  // Fill-up records carry plain W whatever the firmware (§6).
  assert.equal(read("215000000001", 1500, TWO_RAW, true).powerW, 1500);
  // Zero reads the same either way: nothing to note.
  assert.deepEqual(read("215000000001", 0, TWO_RAW), { powerW: 0, encoding: "Wx100", notes: [] });
});

test("implausible however it is read: power unknown, never published", () => {
  const got = read("216000064136", 9_999_999_999, TWO_RAW);
  assert.equal(got.powerW, null);
  assert.equal(got.encoding, null);
  assert.match(
    got.notes[0] ?? "",
    /header power field 9999999999 is implausible .*: power unknown/,
  );
  // No inverter online, yet power: nothing can have produced it.
  const none = readHeaderPower({
    raw: 500,
    ecuId: "216000064136",
    fillUp: false,
    invertersOnline: 0,
    inverters: [],
  });
  assert.equal(none.powerW, null);
});

test("inverters the decoder has no rating for count as the largest it knows", () => {
  // Two DS3-family ids with unknown type codes: 2 × 960 × 1.5 = 2880 W at most.
  const ds3 = [raw("703000000001"), raw("703000000002")];
  assert.equal(read("216000064136", 2880, ds3).powerW, 2880);
  assert.equal(read("216000064136", 2881, ds3).powerW, 28.81);
  // Unknown family, and more inverters online than records: 2000 W each.
  const unknown = readHeaderPower({
    raw: 9000,
    ecuId: "216000064136",
    fillUp: false,
    invertersOnline: 3,
    inverters: [raw("999000000001")],
  });
  assert.equal(unknown.powerW, 9000);
});

test("some records decoded: the header cannot be less than they already deliver", () => {
  const partial = [qs1, raw("703000000001")];
  // 3 W (as W × 100) is less than the decoded QS1's 155 W: plain 300 W.
  const low = read("216000064136", 300, partial);
  assert.deepEqual([low.powerW, low.encoding], [300, "W"]);
  assert.match(low.notes.join(), /less than the decoded inverters alone deliver \(155 W\)/);
  // 15500 as plain W is more than 2 inverters deliver (3675 W); as W × 100 it is 155 W.
  const linux = read("215000000001", 15500, partial);
  assert.deepEqual([linux.powerW, linux.encoding], [155, "Wx100"]);
});

test("every record decoded: the channels decide, as before", () => {
  assert.deepEqual(read("216000064136", 155, [qs1]), { powerW: 155, encoding: "W", notes: [] });
  assert.deepEqual(read("215000000001", 15500, [qs1]), {
    powerW: 155,
    encoding: "Wx100",
    notes: [],
  });
  const off = read("216000064136", 500, [qs1]);
  assert.equal(off.powerW, 500);
  assert.deepEqual(off.notes, ["header power 500 W disagrees with the channel sum 155 W"]);
});
