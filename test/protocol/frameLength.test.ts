import assert from "node:assert/strict";
import { test } from "node:test";
import { declaredLength, lengthField, lengthPrefix } from "../../src/protocol/frameLength.js";

test("APS lengths: `A` or `0` padding, never shorter than the header that carries them", () => {
  assert.equal(lengthPrefix("APS"), 10);
  assert.equal(declaredLength("APS18AA302", "APS"), 302);
  assert.equal(declaredLength("APS1300051", "APS"), 51);
  assert.equal(declaredLength("APS13AAA22", "APS"), 22);
  assert.equal(declaredLength("APS18A1234", "APS"), 1234);
  assert.equal(declaredLength("APS1300009", "APS"), undefined, "shorter than its own header");
  assert.equal(declaredLength("APS18AAAAA", "APS"), undefined);
  assert.equal(declaredLength("APS18AAXYZ", "APS"), undefined);
  assert.equal(declaredLength("APS18A", "APS"), undefined, "field incomplete");
});

test("ECU11 lengths: 4 digits after `ECU11`", () => {
  assert.equal(lengthPrefix("ECU11"), 9);
  assert.equal(declaredLength("ECU110080", "ECU11"), 80);
  assert.equal(declaredLength("ECU110008", "ECU11"), undefined);
});

test("the writer produces what the reader reads", () => {
  assert.equal(lengthField(302, "APS", "A"), "AA302");
  assert.equal(lengthField(52, "APS", "A"), "AAA52");
  assert.equal(lengthField(51, "APS", "0"), "00051");
  assert.equal(lengthField(30, "ECU11", "0"), "0030");
  for (const n of [10, 99, 1000, 99999]) {
    assert.equal(declaredLength(`APS18${lengthField(n, "APS", "A")}`, "APS"), n);
  }
  assert.throws(() => lengthField(100000, "APS", "A"), RangeError);
});
