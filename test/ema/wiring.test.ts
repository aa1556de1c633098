import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startProxy } from "../../src/main.js";
import { parseOptions } from "../../src/options/load.js";
import { FakeEma, fiveMinutesBefore } from "../helpers/ema.js";
import { ECU_ID, firmwareQuery, UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { captureLogs } from "../helpers/logs.js";
import { ecuExchange } from "../helpers/tcp.js";

const wire = (text: string) => Buffer.from(`${text}\n`, "latin1");
const REQUESTS = [
  uploadWire(),
  wire(`APS13AAA22${ECU_ID}`),
  wire(`APS1300051A101AAA0${ECU_ID}A10100000000000000END`),
  wire(`APS13AAA51A123AAA0${ECU_ID}000000000000000000END`),
  firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"),
];

async function start(forward: boolean, ema: FakeEma, timeoutSeconds = 1) {
  const logs = captureLogs("debug");
  const running = await startProxy({
    options: parseOptions({
      forward_to_ema: forward,
      ema_host: "127.0.0.1",
      ema_timeout_seconds: timeoutSeconds,
      block_firmware_updates: false,
    }),
    host: "127.0.0.1",
    ports: [0, 0, 0],
    dataDir: mkdtempSync(join(tmpdir(), "ema-wiring-")),
    logger: logs.logger,
    // Every local port → the stand-in (the real mapping is "the same port").
    emaUpstreamPort: () => ema.ports[0] ?? 0,
  });
  return { running, logs };
}

test("forwarding off (the default): the stand-in EMA sees zero connections, every request is answered locally", async (t) => {
  const ema = await new FakeEma().start(1);
  const { running } = await start(false, ema);
  t.after(async () => {
    await running.stop();
    await ema.stop();
  });
  assert.equal(parseOptions({}).forward_to_ema, false, "off by default");
  assert.equal(running.ema, undefined);
  for (const port of running.server.boundPorts) {
    for (const request of REQUESTS) await ecuExchange(port, request, { quietMs: 150 });
  }
  const got = await ecuExchange(running.server.boundPorts[0] ?? 0, uploadWire(), {
    expectBytes: 17,
  });
  assert.equal(got.toString(), UPLOAD_ANSWER);
  assert.equal(ema.totalConnections, 0, "no traffic to EMA at all");
  assert.equal(ema.requests.length, 0);
});

test("forwarding on: startProxy passes the forwarder to the server and exposes its stats", async (t) => {
  const ema = await new FakeEma().start(1);
  const { running, logs } = await start(true, ema);
  t.after(async () => {
    await running.stop();
    await ema.stop();
  });
  const changes: number[] = [];
  running.ema?.onStatsChange((s) => changes.push(s.answersFromEma));
  const got = await ecuExchange(running.server.boundPorts[0] ?? 0, uploadWire(), {
    expectBytes: 17,
  });
  assert.equal(got.toString(), `101${fiveMinutesBefore("20240206112214")}`);
  assert.equal(ema.totalConnections, 1);
  assert.equal(running.ema?.stats.emaReachable, true);
  assert.equal(running.ema?.stats.answersFromEma, 1);
  assert.deepEqual(changes, [1]);
  assert.ok(
    logs.lines.some((l) => /forwarding to EMA at 127\.0\.0\.1; local answers when EMA/.test(l.msg)),
  );
});

test("stop while a request waits for a slow EMA: the ECU gets the local answer at once", async (t) => {
  const ema = await new FakeEma().start(1);
  ema.behaviour.delayMs = 3000;
  const { running } = await start(true, ema, 5);
  t.after(() => ema.stop());
  const started = Date.now();
  const answer = ecuExchange(running.server.boundPorts[0] ?? 0, uploadWire(), {
    expectBytes: 17,
    timeoutMs: 4000,
  });
  await new Promise((r) => setTimeout(r, 200));
  const stopped = running.stop();
  assert.equal((await answer).toString(), UPLOAD_ANSWER);
  await stopped;
  const ms = Date.now() - started;
  assert.ok(ms < 1500, `answered and stopped after ${ms} ms, not after EMA's 3 s`);
  assert.equal(running.ema?.stats.emaReachable, undefined, "a cancelled request is no failure");
  assert.equal(running.ema?.stats.answersFromProxy, 1);
});
