import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Exchange } from "../../src/proxy/exchange.js";
import { createLocalResponder } from "../../src/proxy/responder.js";
import { ProxyServer } from "../../src/proxy/server.js";
import {
  ECU_ID,
  firmwareQuery,
  sampleBytes,
  UPLOAD_ANSWER,
  uploadWire,
} from "../helpers/fixtures.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { closedWithin, ecuExchange, openSocket } from "../helpers/tcp.js";

const logs = captureLogs("debug");
const exchanges: Exchange[] = [];
const server = new ProxyServer({
  host: "127.0.0.1",
  ports: [0, 0, 0],
  maxMessageBytes: 64 * 1024,
  idleTimeoutMs: 400,
  maxConnections: 50,
  maxConnectionsPerAddress: 40,
  logger: logs.logger,
});
let ports: number[] = [];
let port = 0;

before(async () => {
  await server.start();
  ports = server.boundPorts;
  port = ports[0] ?? 0;
  server.onExchange((e) => exchanges.push(e));
});
after(() => server.stop());

const wire = (text: string) => Buffer.from(`${text}\n`, "latin1");

const REQUESTS: Array<{ name: string; data: Buffer; answer: Buffer }> = [
  { name: "upload", data: uploadWire(), answer: Buffer.from(UPLOAD_ANSWER) },
  { name: "nightly sync", data: wire(`APS13AAA22${ECU_ID}`), answer: Buffer.from("100") },
  {
    name: "command poll",
    data: wire(`APS1300051A101AAA0${ECU_ID}A10100000000000000END`),
    answer: Buffer.from(`APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`),
  },
  {
    name: "status query",
    data: wire(`APS13AAA51A123AAA0${ECU_ID}000000000000000000END`),
    answer: Buffer.from("APS1300024A123AAA0100END"),
  },
  {
    name: "firmware query",
    data: firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"),
    answer: sampleBytes("ecu-r_2160_port9220_ecu11_reply_0001_0001_nofile_proxy-authored.bin"),
  },
];

test("every request type gets its exact answer on every port", async () => {
  for (const p of ports) {
    for (const r of REQUESTS) {
      const got = await ecuExchange(p, r.data, { expectBytes: r.answer.length });
      assert.deepEqual(got, r.answer, `${r.name} on port ${p}`);
    }
  }
});

test("the answer arrives before listeners see the exchange, and the exchange is complete", async () => {
  const before = exchanges.length;
  await ecuExchange(port, uploadWire(), { expectBytes: 17 });
  const ex = await waitFor(
    () => exchanges.slice(before).find((e) => e.message.type === "upload"),
    "exchange",
  );
  assert.equal(ex.answer?.toString(), UPLOAD_ANSWER);
  assert.equal(ex.answeredBy, "proxy");
  assert.equal(ex.port, port);
  assert.equal(ex.frame.length, 302);
});

test("an upload sent one byte at a time is answered", async () => {
  const bytes = [...uploadWire()].map((b) => Buffer.from([b]));
  const got = await ecuExchange(port, bytes, { expectBytes: 17, timeoutMs: 10000 });
  assert.equal(got.toString(), UPLOAD_ANSWER);
});

test("two messages on one connection are answered in order", async () => {
  const data = Buffer.concat([wire(`APS13AAA22${ECU_ID}`), uploadWire()]);
  const got = await ecuExchange(port, data, { expectBytes: 20 });
  assert.equal(got.toString(), `100${UPLOAD_ANSWER}`);
});

const BAD: Array<{ name: string; data: Buffer; log: RegExp }> = [
  {
    name: "a garbage line",
    data: Buffer.from("GET / HTTP/1.0\r\n\r\n"),
    log: /rejected input: bytes that are not a frame start/,
  },
  {
    name: "a wrong length field",
    data: Buffer.from(uploadWire().toString("latin1").replace("AA302", "AA310"), "latin1"),
    log: /rejected input: length field says 310 bytes but the line ended after 302/,
  },
  {
    name: "an invalid timestamp",
    data: Buffer.from(
      uploadWire().toString("latin1").replace("20240206112214", "20249999999999"),
      "latin1",
    ),
    log: /rejected frame: timestamp '20249999999999' is not a valid/,
  },
];

for (const bad of BAD) {
  test(`${bad.name}: a log line, no answer, and the next upload on the same connection is answered`, async () => {
    const got = await ecuExchange(port, [bad.data, uploadWire()], { expectBytes: 17 });
    assert.equal(got.toString(), UPLOAD_ANSWER);
    assert.ok(
      logs.lines.some((l) => bad.log.test(l.msg)),
      `log line ${bad.log}`,
    );
  });
}

test("an oversized message closes that connection with a log line; the next upload is answered", async () => {
  const socket = await openSocket(port);
  socket.write("APS1899999AAAAAAA1");
  await closedWithin(socket, 2000);
  assert.ok(
    logs.lines.some((l) =>
      /exceeds the 65536-byte limit \(option max_message_kib\) — closing/.test(l.msg),
    ),
  );
  const got = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
  assert.equal(got.toString(), UPLOAD_ANSWER);
});

test("a silent connection is closed by the idle timeout with a log line", async () => {
  const socket = await openSocket(port);
  const ms = await closedWithin(socket, 3000);
  // Limit 400 ms (socket.setTimeout): closed after 400 ms plus scheduling.
  assert.ok(ms >= 390 && ms < 1000, `closed after ${ms} ms`);
  assert.ok(
    logs.lines.some((l) => /closing idle connection \(option idle_timeout_seconds\)/.test(l.msg)),
  );
});

test("bytes keep a connection open; once they stop, the idle timeout closes it", async () => {
  const socket = await openSocket(port);
  let closed = false;
  socket.once("close", () => {
    closed = true;
  });
  for (let i = 0; i < 8; i++) {
    socket.write("A"); // 8 × 150 ms: three times the 400 ms limit, never silent for that long
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.equal(closed, false, "closed although bytes kept arriving");
  const ms = await closedWithin(socket, 3000);
  assert.ok(ms >= 200 && ms < 1000, `closed ${ms} ms after the last byte`);
});

test("an unknown message kind is logged once at info, raw, and gets no answer", async () => {
  const aps16 = Buffer.concat([
    sampleBytes("other/optimizer-ecu_2240_aps16_upload_58inv_20160922_debuglog.txt"),
    Buffer.from("\n"),
  ]);
  for (let i = 0; i < 3; i++) {
    const got = await ecuExchange(port, aps16, { quietMs: 200 });
    assert.equal(got.length, 0);
  }
  const infos = logs.lines.filter(
    (l) => l.level === 30 && /unknown message kind APS16/.test(l.msg),
  );
  assert.equal(infos.length, 1);
  assert.equal(typeof infos[0]?.rawFrame, "string");
});

test("each upload is one readable info line, the full record at debug", () => {
  const line = logs.lines.find((l) => l.level === 30 && l.msg.startsWith("ECU 216000064136"));
  assert.equal(
    line?.msg,
    "ECU 216000064136 (ECU-R) 2024-02-06T11:22:14: 190 W, 2127.9 kWh lifetime, 2 inverter(s) — 408000111178 YC600 35 W 13°C, 806000011223 QS1 155 W 15°C",
  );
  assert.equal(line?.answer, UPLOAD_ANSWER);
  assert.equal(line?.by, "proxy");
  assert.match(String(line?.remote), /^127\.0\.0\.1:\d+$/);
  assert.ok(logs.lines.some((l) => l.level === 20 && l.msg === "decoded upload"));
});

test("an upload the store does not confirm gets no answer: the connection is closed at once", async () => {
  const stored: string[] = [];
  const refusing = new ProxyServer({
    host: "127.0.0.1",
    ports: [0],
    maxMessageBytes: 64 * 1024,
    idleTimeoutMs: 5000,
    maxConnections: 50,
    maxConnectionsPerAddress: 40,
    logger: logs.logger,
    responder: createLocalResponder({
      storeUpload: async (upload) => {
        stored.push(upload.ecu.timestamp);
        return { confirm: false, reason: "the disk is full" };
      },
    }),
  });
  const seen: Exchange[] = [];
  refusing.onExchange((e) => seen.push(e));
  await refusing.start();
  try {
    const p = refusing.boundPorts[0] ?? 0;
    const socket = await openSocket(p);
    const got: Buffer[] = [];
    socket.on("data", (d: Buffer) => got.push(d));
    socket.write(uploadWire());
    const ms = await closedWithin(socket, 3000);
    assert.ok(ms < 2000, `closed after ${ms} ms, long before the idle timeout`);
    assert.equal(Buffer.concat(got).length, 0, "no 101: the ECU keeps the round");
    assert.deepEqual(stored, ["2024-02-06T11:22:14"]);
    const ex = await waitFor(() => seen.find((e) => e.message.type === "upload"), "exchange");
    assert.equal(ex.answer, null);
    assert.equal(ex.refused, "the disk is full");
    const line = logs.lines.find((l) => String(l.answer).includes("the disk is full"));
    assert.equal(line?.answer, "none (not confirmed: the disk is full)");
  } finally {
    await refusing.stop();
  }
});
