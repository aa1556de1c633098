import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { answerFor } from "../../src/protocol/answers/answerFor.js";
import { NO_FILE_ANSWER } from "../../src/protocol/answers/firmwareQuery.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { UploadMessage } from "../../src/protocol/types.js";
import {
  captureBytes,
  expectedFiles,
  listCaptures,
  type Replay,
  readExpected,
  replay,
} from "../helpers/captures.js";
import { sampleJson, UPLOAD_ANSWER, UPLOAD_FILE, uploadFrame } from "../helpers/fixtures.js";

/**
 * The capture table (test/fixtures/captures/README.md): every capture is decoded and answered as
 * its expected files say — fed whole, one byte at a time, and split in two at every byte.
 * `UPDATE_CAPTURES=1 node scripts/run-tests.mjs captures` rewrites the expected files from what
 * the code does now; review the diff before committing it.
 */
const UPDATE = process.env.UPDATE_CAPTURES === "1";

const same = (got: Replay, want: Replay) =>
  JSON.stringify(got.decoded) === JSON.stringify(want.decoded) &&
  JSON.stringify(got.answers) === JSON.stringify(want.answers);

for (const capture of listCaptures()) {
  test(`capture ${capture.name}`, () => {
    const whole = replay([capture.bytes]);
    if (UPDATE) {
      const files = expectedFiles(whole);
      writeFileSync(capture.path.replace(/\.(txt|bin)$/, ".decoded.jsonl"), files.decoded);
      if (files.answers !== null) {
        writeFileSync(capture.path.replace(/\.(txt|bin)$/, ".answers.jsonl"), files.answers);
      }
      return;
    }
    const expected = readExpected(capture);
    assert.deepEqual(whole.decoded, expected.decoded, "decoded");
    assert.deepEqual(whole.answers, expected.answers, "answers");

    const bytes = [...capture.bytes].map((b) => Buffer.from([b]));
    assert.ok(same(replay(bytes), expected), "fed one byte at a time");
    for (let at = 1; at < capture.bytes.length; at++) {
      const split = replay([capture.bytes.subarray(0, at), capture.bytes.subarray(at)]);
      if (!same(split, expected)) {
        assert.deepEqual(split, expected, `split at byte ${at}`);
      }
    }
  });
}

test("every capture sits in a model folder, and the synthetic ones say so in their name", () => {
  const captures = listCaptures();
  assert.ok(captures.length >= 10);
  for (const c of captures) {
    assert.match(c.model, /^(ecu-r-2160|ecu-r-dev-2130|optimizer-ecu-2240|synthetic)$/, c.name);
    assert.equal(c.synthetic, /synthetic/.test(c.name), `${c.name}: say 'synthetic' in its name`);
  }
});

// Cross-checks against values worked out independently of this decoder (the research notes'
// decode of the 2024 capture, and a proxy author's answer bytes), so the expected files above
// cannot simply have learnt a decoder bug.

interface DerivedChannel {
  dc_voltage_V: number;
  dc_current_A: number;
  interval_energy_Wh: number;
  power_W: number;
}
interface UploadSource {
  total_bytes_incl_lf: number;
  derived_decode: {
    ecu: {
      ecu_id: string;
      system_power_W: number;
      lifetime_energy_kWh: number;
      inverters_reporting: number;
      timezone_changed_flag: number;
    };
    inverters: Array<{
      id: string;
      type_code: string;
      ac_voltage_V: number;
      frequency_Hz: number;
      temperature_C: number;
      active_power_raw: string;
      channels: DerivedChannel[];
    }>;
  };
  expected_cloudless_reply_examples: { confirm_this_record: string };
}

test("the real ECU-R upload decodes to the research notes' own decode of it", () => {
  const source = sampleJson<UploadSource>(UPLOAD_FILE);
  assert.equal(captureBytes(UPLOAD_FILE).length, source.total_bytes_incl_lf);
  const upload = decodeFrame(uploadFrame()) as UploadMessage;
  assert.equal(upload.type, "upload");
  const ecu = source.derived_decode.ecu;
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
  const models = ["YC600", "QS1"];
  assert.equal(upload.inverters.length, source.derived_decode.inverters.length);
  source.derived_decode.inverters.forEach((want, i) => {
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
  const answer = answerFor(upload)?.toString("latin1");
  assert.equal(answer, UPLOAD_ANSWER);
  assert.equal(answer, source.expected_cloudless_reply_examples.confirm_this_record);
});

test("'file does not exist' is byte for byte the answer a proxy author sent the ECU-R", () => {
  const authored = captureBytes(
    "ecu-r-2160/ecu-r_2160_port9220_ecu11_reply_0001_0001_nofile_proxy-authored.bin",
  );
  assert.deepEqual(NO_FILE_ANSWER, authored);
  const query = replay([
    captureBytes("synthetic/ecu-r-2160_ecu11_req_0001_0001_download-query-completed_synthetic"),
  ]);
  assert.deepEqual(query.answers, [authored.toString("latin1")]);
});

test("FW-ECU3 header encoding (synthetic): 190 W whether or not a record confirms it", () => {
  // protocol-update-2026-12.md §3: the 2024 capture with the header the Linux firmware writes
  // (W × 100, round energy filled); 190 W is the capture's own channel sum. With type codes no
  // layout fits (01/03) nothing confirms it, and 19,000 W is more than its 2 inverters deliver.
  for (const name of [
    "synthetic/ecu-r-2160_upload_2inv_20240206_fw-ecu3-header_synthetic",
    "synthetic/ecu-r-2160_upload_2inv_20240206_fw-ecu3-header_type-codes-01-03_synthetic",
  ]) {
    const upload = decodeFrame(captureBytes(name).subarray(0, -1)) as UploadMessage;
    assert.equal(upload.type, "upload", name);
    assert.equal(upload.ecu.powerW, 190, name);
    assert.equal(upload.ecu.powerEncoding, "Wx100", name);
    assert.equal(upload.ecu.roundEnergyKWh, 0.015213, name);
    assert.equal(upload.ecu.lifetimeEnergyKWh, 2127.9, name);
  }
});

test("our answer to the 2017 poll is byte for byte what the server sent in the same log", () => {
  const log = replay([
    captureBytes(
      "ecu-r-dev-2130/ecu-r-dev-2130_fw-r17-doc-wifilog_20170527_a101-poll-and-server-reply",
    ),
  ]);
  const [poll, serverReply] = log.decoded;
  assert.equal(poll?.type, "control_poll");
  assert.equal(serverReply?.type, "unknown");
  assert.equal(log.answers[0], (serverReply as { raw: string }).raw);
});
