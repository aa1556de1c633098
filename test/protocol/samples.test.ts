import assert from "node:assert/strict";
import { test } from "node:test";
import { answerFor, NO_FILE_ANSWER } from "../../src/protocol/answer.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { UploadMessage } from "../../src/protocol/types.js";
import {
  firmwareQuery,
  sampleBytes,
  sampleJson,
  UPLOAD_ANSWER,
  UPLOAD_FILE,
  uploadFrame,
} from "../helpers/fixtures.js";

interface DerivedChannel {
  dc_voltage_V: number;
  dc_current_A: number;
  interval_energy_Wh: number;
  power_W: number;
}
interface DerivedInverter {
  id: string;
  type_code: string;
  ac_voltage_V: number;
  frequency_Hz: number;
  temperature_C: number;
  active_power_raw: string;
  channels: DerivedChannel[];
}
interface UploadSample {
  total_bytes_incl_lf: number;
  derived_decode: {
    ecu: {
      ecu_id: string;
      system_power_W: number;
      lifetime_energy_kWh: number;
      inverters_reporting: number;
      timezone_changed_flag: number;
    };
    inverters: DerivedInverter[];
  };
  expected_cloudless_reply_examples: { confirm_this_record: string };
}

test("the real ECU-R upload decodes to the values in its .json", () => {
  const sample = sampleJson<UploadSample>(UPLOAD_FILE.replace(".txt", ".json"));
  assert.equal(sampleBytes(UPLOAD_FILE).length, sample.total_bytes_incl_lf);
  const result = decodeFrame(uploadFrame());
  assert.equal(result.type, "upload");
  const upload = result as UploadMessage;
  const ecu = sample.derived_decode.ecu;
  assert.deepEqual(upload.ecu, {
    id: ecu.ecu_id,
    model: "ECU-R",
    timestamp: "2024-02-06T11:22:14",
    powerW: ecu.system_power_W,
    lifetimeEnergyKWh: ecu.lifetime_energy_kWh,
    invertersOnline: ecu.inverters_reporting,
    roundEnergyKWh: 0,
    powerEncoding: "W",
    timezoneChanged: ecu.timezone_changed_flag === 1,
  });
  assert.equal(upload.inverters.length, sample.derived_decode.inverters.length);
  const models = ["YC600", "QS1"];
  sample.derived_decode.inverters.forEach((want, i) => {
    assert.deepEqual(upload.inverters[i], {
      uid: want.id,
      typeCode: want.type_code,
      model: models[i],
      frequencyHz: want.frequency_Hz,
      temperatureC: want.temperature_C,
      acVoltageV: want.ac_voltage_V,
      activePowerRaw: want.active_power_raw,
      channels: want.channels.map((c) => ({
        powerW: c.power_W,
        dcVoltageV: c.dc_voltage_V,
        dcCurrentA: c.dc_current_A,
        energyWh: c.interval_energy_Wh,
      })),
    });
  });
  assert.deepEqual(upload.notes, []);
});

test("the upload is confirmed with its own timestamp", () => {
  const sample = sampleJson<UploadSample>(UPLOAD_FILE.replace(".txt", ".json"));
  const result = decodeFrame(uploadFrame());
  assert.ok(result.type === "upload");
  const answer = answerFor(result);
  assert.equal(answer?.toString("latin1"), UPLOAD_ANSWER);
  assert.equal(UPLOAD_ANSWER, sample.expected_cloudless_reply_examples.confirm_this_record);
});

test("a firmware download query is answered with the proxy-authored 'file does not exist' frame", () => {
  const query = firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin");
  assert.equal(query.length, 80);
  const result = decodeFrame(query);
  assert.deepEqual(result, { type: "firmware_query", path: "/ECU_R_M3/V1.2/ecu-r-m3.bin" });
  const expected = sampleBytes(
    "ecu-r_2160_port9220_ecu11_reply_0001_0001_nofile_proxy-authored.bin",
  );
  assert.deepEqual(answerFor(result as never), expected);
  assert.deepEqual(NO_FILE_ANSWER, expected);
});

test("the captured first 17 bytes alone are a truncated frame, reported as bad length", () => {
  const result = decodeFrame(
    sampleBytes("ecu-r_2160_port9220_ecu11_req_0001_0001_first17bytes.txt"),
  );
  assert.equal(result.type, "error");
  assert.equal((result as { code: string }).code, "bad_length");
});

test("ECU11 frame type 0004 (purpose unknown, §13 U7) is kept raw with no answer", () => {
  for (const sub of ["0001", "0003"]) {
    const masked = sampleBytes(`ecu-r_2160_port9220_ecu11_req_0004_${sub}_ecuid-masked.txt`);
    // The source masked the 12-digit id as the 8-char "[ECU-ID]"; as published it is short.
    assert.equal(decodeFrame(masked).type, "error");
    const real = Buffer.from(
      masked.toString("latin1").replace("[ECU-ID]", "216000064136"),
      "latin1",
    );
    const result = decodeFrame(real);
    assert.equal(result.type, "unknown");
    assert.ok(result.type === "unknown");
    assert.equal(result.kind, `ECU11/0004/${sub}`);
    assert.equal(result.ecuId, "216000064136");
    assert.equal(result.raw, real.toString("latin1"));
    assert.equal(answerFor(result), null);
  }
});

test("the APS16 optimizer-ECU record (layout not public) is kept raw with no answer", () => {
  const text = sampleBytes("other/optimizer-ecu_2240_aps16_upload_58inv_20160922_debuglog.txt");
  const result = decodeFrame(text);
  assert.equal(result.type, "unknown");
  assert.ok(result.type === "unknown");
  assert.equal(result.kind, "APS16");
  assert.equal(result.ecuId, "224000003029");
  assert.equal(answerFor(result), null);
});
