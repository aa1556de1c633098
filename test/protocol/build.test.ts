import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ChannelReading,
  encodeInverterRecord,
  encodeUpload,
} from "../../src/protocol/build.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import { decodeInverterRecord } from "../../src/protocol/decodeInverterRecord.js";
import { INVERTER_LAYOUTS } from "../../src/protocol/layouts/index.js";
import type { UploadMessage } from "../../src/protocol/types.js";

// The builder has no offsets of its own: it writes through the decoder's tables. So every layout
// the decoder knows must come back from the decoder exactly as it was built.
for (const [typeCode, layout] of Object.entries(INVERTER_LAYOUTS)) {
  test(`type ${typeCode} (${layout.product}): built from the layout table, decoded back unchanged`, () => {
    const shared = layout.dcVoltage !== undefined;
    const channels: ChannelReading[] = layout.channels.map((_, i) => ({
      dcVoltageV: shared ? 35.1 : 30.5 + i,
      dcCurrentA: 1.2 + i / 10,
      energyWh: 1.5 + i,
      powerW: 40.25 + i,
    }));
    const temperatureC = layout.temperature.encoding === "signedText" ? -3 : 21;
    const record = encodeInverterRecord({
      uid: "999000000001",
      typeCode,
      acVoltageV: 230,
      phaseVoltagesV: [230, 231, 232],
      frequencyHz: 49.9,
      temperatureC,
      channels,
    });
    assert.equal(record.length, layout.length + 3);
    assert.ok(record.endsWith("END"));
    const inv = decodeInverterRecord(record.slice(0, -3));
    assert.equal(inv.problem, undefined, inv.problem);
    assert.equal(inv.model, layout.product);
    assert.equal(inv.frequencyHz, 49.9);
    assert.equal(inv.temperatureC, temperatureC);
    assert.equal(inv.acVoltageV, 230);
    if (layout.phaseVoltages) assert.deepEqual(inv.phaseVoltagesV, [230, 231, 232]);
    assert.deepEqual(inv.channels, channels);
  });
}

test("the header's encodings (W or W×100, round energy) are written where the decoder reads them", () => {
  const inverter = {
    uid: "408000000001",
    typeCode: "07",
    acVoltageV: 230,
    frequencyHz: 50,
    temperatureC: 20,
    channels: [
      { dcVoltageV: 33, dcCurrentA: 3, energyWh: 8.3, powerW: 100 },
      { dcVoltageV: 33, dcCurrentA: 2.7, energyWh: 7.5, powerW: 90 },
    ],
  };
  const text = encodeUpload({
    ecuId: "215000000001",
    timestamp: "20240206112214",
    lifetimeEnergyKWh: 2127.9,
    roundEnergyKWh: 0.015213,
    powerEncoding: "Wx100",
    inverters: [inverter],
  });
  assert.equal(text.slice(30, 60), "000001900000000152130000021279");
  const up = decodeFrame(Buffer.from(text, "latin1")) as UploadMessage;
  assert.equal(up.type, "upload");
  assert.equal(up.ecu.powerW, 190);
  assert.equal(up.ecu.powerEncoding, "Wx100");
  assert.equal(up.ecu.roundEnergyKWh, 0.015213);
  assert.equal(up.ecu.lifetimeEnergyKWh, 2127.9);
});

test("readings that do not fit their field are refused, not truncated", () => {
  const base = {
    uid: "408000000001",
    typeCode: "07",
    acVoltageV: 230,
    frequencyHz: 50,
    temperatureC: 20,
    activePowerRaw: "00000",
    channels: [
      { dcVoltageV: 33, dcCurrentA: 3, energyWh: 8.3, powerW: 100 },
      { dcVoltageV: 33, dcCurrentA: 3, energyWh: 8.3, powerW: 1000 },
    ],
  };
  assert.throws(() => encodeInverterRecord(base), /power 1000 does not fit the 5-digit field/);
  assert.throws(() => encodeInverterRecord({ ...base, typeCode: "99" }), /no record layout/);
  assert.throws(() => encodeInverterRecord({ ...base, typeCode: "08" }), /needs 4 channels/);
});
