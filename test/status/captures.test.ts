import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { UploadMessage } from "../../src/protocol/types.js";
import { CaptureStore } from "../../src/status/captures.js";
import { buildExport, CAPTURE_FORMAT, readExport } from "../../src/status/exportFile.js";
import { IdMasker } from "../../src/status/mask.js";
import { runCli } from "../helpers/cli.js";
import { ECU_FRAMES, exchangeOf } from "../helpers/exchanges.js";
import { ECU_ID, firmwareQuery, uploadFrame } from "../helpers/fixtures.js";
import { captureLogs } from "../helpers/logs.js";

const INVERTERS = ["408000111178", "806000011223"];
const REAL_IDS = [ECU_ID, ...INVERTERS];

function store(maxBytes = 1024 * 1024, dir = mkdtempSync(join(tmpdir(), "captures-"))) {
  const file = join(dir, "captures.jsonl");
  return { file, dir, store: new CaptureStore({ file, maxBytes, logger: captureLogs().logger }) };
}

/** Every kind of frame an ECU sends on the proxy's ports, the real upload among them. */
function feedEveryKind(s: CaptureStore): void {
  s.handleExchange(exchangeOf(uploadFrame(), { port: 8996 }));
  s.handleExchange(exchangeOf(ECU_FRAMES.sync));
  s.handleExchange(exchangeOf(ECU_FRAMES.poll, { port: 8997 }));
  s.handleExchange(exchangeOf(ECU_FRAMES.statusReport, { port: 8997 }));
  s.handleExchange(exchangeOf(ECU_FRAMES.unknownAps13, { port: 8997 }));
  s.handleExchange(exchangeOf(ECU_FRAMES.aps16));
  // Binary (NUL-padded path) on the OTA port.
  s.handleExchange(exchangeOf(firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"), { port: 9220 }));
}

test("keeps the latest frame of each kind per ECU and every unanswered one", () => {
  const { store: s } = store();
  feedEveryKind(s);
  s.handleExchange(exchangeOf(uploadFrame(), { port: 8995 }));
  s.handleExchange(exchangeOf(ECU_FRAMES.unknownAps13, { port: 8997 }));
  const list = s.list();
  assert.equal(list.filter((c) => c.kind === "upload").length, 1, "one upload sample per ECU");
  assert.equal(list.find((c) => c.kind === "upload")?.port, 8995, "the newer one");
  assert.equal(list.filter((c) => c.kind === "APS13/A119").length, 2, "every unanswered frame");
  assert.equal(list.find((c) => c.kind === "APS16")?.reason, "unanswered");
  assert.equal(list.find((c) => c.kind === "firmware_query")?.reason, "sample");
  assert.ok(list.every((c) => c.remote === "192.168.1.50"));
  s.handleExchange(exchangeOf("APS18AA999garbage"));
  const bad = s.list().at(-1);
  assert.equal(bad?.kind, "error/bad_length");
  assert.equal(bad?.reason, "undecodable");
  assert.match(bad?.detail ?? "", /length field/);
});

test("the masked export holds no real id, keeps model prefixes and lengths, and decodes as a process", async () => {
  const { store: s, dir } = store();
  feedEveryKind(s);
  const text = buildExport(s.all(), "test 1.0");
  for (const id of REAL_IDS) assert.ok(!text.includes(id), `real id ${id} is in the export`);
  const [headerLine, ...lines] = text.trim().split("\n");
  const header = JSON.parse(headerLine ?? "");
  assert.equal(header.format, CAPTURE_FORMAT);
  assert.equal(header.masked, true);
  assert.equal(lines.length, 7);
  assert.ok(!text.includes("192.168.1.50"), "source addresses are left out");

  const file = join(dir, "export.jsonl");
  writeFileSync(file, text);
  const { code, stdout, stderr } = runCli(["decode", file]);
  assert.equal(code, 0, stderr);
  const decoded = stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    decoded.map((m) => m.type),
    [
      "upload",
      "sync_request",
      "control_poll",
      "status_report",
      "unknown",
      "unknown",
      "firmware_query",
    ],
  );
  // The upload decodes to the same readings, under fake ids with the real ones' model prefixes.
  const real = decodeFrame(uploadFrame()) as UploadMessage;
  const masked = decoded[0] as UploadMessage;
  assert.notEqual(masked.ecu.id, ECU_ID);
  assert.match(masked.ecu.id, /^2160[0-9]{8}$/);
  assert.equal(masked.ecu.model, "ECU-R");
  assert.deepEqual({ ...masked.ecu, id: ECU_ID }, real.ecu);
  assert.deepEqual(
    masked.inverters.map((i) => [i.uid.slice(0, 3), i.uid.length, i.model]),
    [
      ["408", 12, "YC600"],
      ["806", 12, "QS1"],
    ],
  );
  assert.deepEqual(
    masked.inverters.map((i) => i.channels),
    real.inverters.map((i) => i.channels),
  );
  // One fake per real id, in every frame that names it.
  const fakeEcu = masked.ecu.id;
  const fakeInverter = masked.inverters[0]?.uid ?? "";
  for (const m of decoded.slice(1, 4)) assert.equal(m.ecuId, fakeEcu);
  assert.equal(decoded[3].statuses[0].uid, fakeInverter);
  assert.ok(decoded[5].raw.includes(fakeEcu) && decoded[5].raw.includes(fakeInverter));
  assert.equal(decoded[6].path, "/ECU_R_M3/V1.2/ecu-r-m3.bin");
  // Answers are kept too (masked: the control-poll answer repeats the ECU id).
  const poll = JSON.parse(lines[2] ?? "");
  assert.equal(poll.answer, `APS13AAA52A100AAA0${fakeEcu}A101000000000000000END`);
});

test("decode names the frames of an export that still do not decode, and exits 1", () => {
  const { store: s, dir } = store();
  s.handleExchange(exchangeOf(uploadFrame()));
  s.handleExchange(exchangeOf(`APS18AA999${ECU_ID}`));
  const file = join(dir, "export.jsonl");
  writeFileSync(file, buildExport(s.all(), "test"));
  const { code, stdout, stderr } = runCli(["decode", file]);
  assert.equal(code, 1);
  assert.equal(stdout.trim().split("\n").length, 1);
  assert.match(stderr, /line 3 \(error\/bad_length\): bad_length/);
  assert.ok(!stderr.includes(ECU_ID) && !stdout.includes(ECU_ID));
});

test("an ECU id in a frame that does not decode at all is masked too", () => {
  const { store: s } = store();
  const otherEcu = "216300012345";
  // A new firmware's upload whose length field this proxy does not understand.
  s.handleExchange(exchangeOf(`APS19XX999AAAAAAA1${otherEcu}000000END`));
  s.handleExchange(exchangeOf(`APS13AAA23${otherEcu}X`));
  s.handleExchange(exchangeOf(`{"EID":"${otherEcu}","V":2}`));
  assert.deepEqual(
    s.list().map((c) => c.reason),
    ["undecodable", "undecodable", "unanswered"],
  );
  const text = buildExport(s.all(), "test");
  assert.ok(!text.includes(otherEcu));
  assert.match(text, /2163[0-9]{8}/, "the ECU-B prefix stays");
});

test("the file stays within capture_max_kib after many frames, oldest dropped first", async () => {
  const maxBytes = 64 * 1024;
  const { store: s, file } = store(maxBytes);
  s.handleExchange(exchangeOf(uploadFrame()));
  const unknown = (i: number) =>
    `APS1300052A100AAA0${ECU_ID}A1022024020611${String(i).padStart(6, "0")}0END`;
  for (let i = 0; i < 3000; i++) s.handleExchange(exchangeOf(unknown(i)));
  await s.flush();
  const size = statSync(file).size;
  assert.ok(size <= maxBytes, `${size} bytes on disk > ${maxBytes}`);
  assert.ok(size > maxBytes * 0.9, "the space is used, not emptied");
  assert.equal(s.summary().bytes, size);
  const kinds = s.list();
  assert.ok(!kinds.some((c) => c.kind === "upload"), "the oldest frame went first");
  const last = readExport(Buffer.from(buildExport(s.all(), "t")))?.frames.at(-1);
  assert.ok(last?.frame.toString("latin1").includes("002999"), "the newest frame is kept");

  // A restart reads the file back; a lowered bound applies at once.
  const again = new CaptureStore({ file, maxBytes, logger: captureLogs().logger });
  assert.equal(again.list().length, kinds.length);
  const smaller = new CaptureStore({ file, maxBytes: 8 * 1024, logger: captureLogs().logger });
  assert.ok(smaller.summary().bytes <= 8 * 1024);
  // Sequence numbers go on after a restart, so list order and ids stay unique.
  again.handleExchange(exchangeOf(ECU_FRAMES.sync));
  assert.ok((again.list().at(-1)?.seq ?? 0) > (kinds.at(-1)?.seq ?? 0));
});

test("a damaged captures file costs only its bad lines", () => {
  const { store: s, file, dir } = store();
  feedEveryKind(s);
  return s.flush().then(() => {
    const text = readFileSync(file, "utf8");
    writeFileSync(file, `${text}{"seq":99,"fra\n`);
    const again = new CaptureStore({
      file: join(dir, "captures.jsonl"),
      maxBytes: 1024 * 1024,
      logger: captureLogs().logger,
    });
    assert.equal(again.list().length, 7);
  });
});

test("fake ids never equal a real id, even when a real id looks like a fake", () => {
  // 408000000001 is what the first YC600 fake would be; it is real here, so it must be skipped.
  const masker = new IdMasker([ECU_ID], ["408000111178", "408000000001"]);
  const fakes = ["408000111178", "408000000001"].map((id) => masker.fakeFor(id));
  assert.equal(new Set(fakes).size, 2);
  for (const fake of fakes) {
    assert.ok(!["408000111178", "408000000001", ECU_ID].includes(fake));
    assert.match(fake, /^408[0-9]{9}$/);
  }
  assert.equal(masker.mask(`x${ECU_ID}y408000000001`), `x${masker.fakeFor(ECU_ID)}y${fakes[1]}`);
});
