import assert from "node:assert/strict";
import { test } from "node:test";
import type { EmaStats } from "../../src/ema/forwarder.js";
import { apsFrame, FakeEma, fiveMinutesBefore, refusedPort } from "../helpers/ema.js";
import { ECU_ID, UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { startForwarding } from "../helpers/forwarding.js";
import { waitFor } from "../helpers/logs.js";
import { ecuExchange } from "../helpers/tcp.js";

const UPLOAD_TS = "20240206112214";
const EMA_UPLOAD_ANSWER = Buffer.from(`101${fiveMinutesBefore(UPLOAD_TS)}`, "latin1");
const wire = (text: string) => Buffer.from(`${text}\n`, "latin1");
const POLL = wire(`APS1300051A101AAA0${ECU_ID}A10100000000000000END`);
const SYNC = wire(`APS13AAA22${ECU_ID}`);
const STATUS_QUERY = wire(`APS13AAA51A123AAA0${ECU_ID}000000000000000000END`);
/** Read like an ECU until the answer has been quiet for a while, so extra bytes would show. */
const exchange = (port: number, data: Buffer | Buffer[]) =>
  ecuExchange(port, data, { quietMs: 400, timeoutMs: 4000 });

test("relay: every frame (with its LF) reaches EMA on the port it arrived on; EMA's answer reaches the ECU byte for byte", async (t) => {
  const ema = await new FakeEma().start(3);
  const fw = await startForwarding({ upstream: (i) => ema.ports[i] ?? 0 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  assert.notDeepEqual(
    EMA_UPLOAD_ANSWER.toString(),
    UPLOAD_ANSWER,
    "EMA's answer differs from ours",
  );

  for (const [i, port] of fw.ports.entries()) {
    const got = await exchange(port, uploadWire());
    assert.deepEqual(got, EMA_UPLOAD_ANSWER, `ECU on proxy port ${i} got EMA's bytes`);
    const request = ema.requests.at(-1);
    assert.equal(request?.port, ema.ports[i], `relayed to EMA port ${i}`);
    assert.deepEqual(request?.data, uploadWire(), "EMA got the ECU's exact bytes, LF included");
  }
  assert.deepEqual(ema.connections, [1, 1, 1], "one EMA connection per request, per port");

  // The upload is still decoded for publishing, and the exchange says who answered.
  const uploads = await waitFor(() => fw.exchanges.length === 3 && fw.exchanges, "three exchanges");
  for (const e of uploads) {
    assert.equal(e.message.type, "upload");
    assert.equal(e.answeredBy, "ema");
    assert.deepEqual(e.answer, EMA_UPLOAD_ANSWER);
  }
  const stats = fw.forwarder.stats;
  assert.equal(stats.emaReachable, true);
  assert.equal(stats.answersFromEma, 3);
  assert.equal(stats.answersFromProxy, 0);
  assert.equal(stats.lastEmaError, undefined);
});

test("relay: sync, control poll and status query; answers in pieces and with a trailing LF arrive whole and unchanged", async (t) => {
  const ema = await new FakeEma().start(1);
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const port = fw.ports[2] ?? 0;

  // EMA answers the sync with the record it stored from the upload before (§5).
  assert.deepEqual(await exchange(port, uploadWire()), EMA_UPLOAD_ANSWER);
  assert.deepEqual(await exchange(port, SYNC), Buffer.from(`101${UPLOAD_TS}`));

  // The pause between the pieces is longer than the forwarder's quiet period (60 ms): an
  // unfinished APS frame or `1NN…` answer must not be cut there.
  ema.behaviour.splitMs = 150;
  ema.behaviour.trailingLf = true;
  const poll = await exchange(port, POLL);
  assert.deepEqual(
    poll,
    Buffer.concat([apsFrame("A101", "AAA0", ECU_ID, `A100${"0".repeat(14)}`), Buffer.from("\n")]),
  );
  assert.deepEqual(await exchange(port, uploadWire()), EMA_UPLOAD_ANSWER);
  const status = await exchange(port, STATUS_QUERY);
  assert.equal(status.toString("latin1"), "APS1300024A123AAA0100END\n");

  // What EMA received: exactly what the ECU sent, request by request.
  assert.deepEqual(
    ema.requests.map((r) => r.data),
    [uploadWire(), SYNC, POLL, uploadWire(), STATUS_QUERY],
  );
});

test("two frames on one ECU connection: two EMA requests, answers in order", async (t) => {
  const ema = await new FakeEma().start(1);
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const got = await exchange(fw.ports[0] ?? 0, Buffer.concat([uploadWire(), SYNC]));
  assert.equal(got.toString(), `${EMA_UPLOAD_ANSWER}101${UPLOAD_TS}`);
  assert.equal(ema.totalConnections, 2);
});

test("slow EMA: the ECU gets the local answer within the limit; warn once, then debug; back to EMA when it answers again", async (t) => {
  const ema = await new FakeEma().start(1);
  ema.behaviour.delayMs = 2500;
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0, timeoutMs: 1000 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const changes: EmaStats[] = [];
  fw.forwarder.onStatsChange((s) => changes.push(s));
  const port = fw.ports[0] ?? 0;

  for (let i = 0; i < 2; i++) {
    const started = Date.now();
    const got = await ecuExchange(port, uploadWire(), { expectBytes: 17, timeoutMs: 4000 });
    const ms = Date.now() - started;
    assert.equal(got.toString(), UPLOAD_ANSWER, "the local (cloudless) answer");
    assert.ok(ms >= 950 && ms < 1600, `answered after ${ms} ms (limit 1000 ms)`);
  }
  const stats = fw.forwarder.stats;
  assert.equal(stats.emaReachable, false);
  assert.equal(stats.answersFromProxy, 2);
  assert.equal(stats.answersFromEma, 0);
  assert.match(stats.lastEmaError ?? "", /did not answer within 1000 ms/);
  assert.equal(changes.length, 2, "a change notification per answer");
  assert.equal(changes[0]?.emaReachable, false);

  const lines = fw.logs.lines.filter((l) =>
    /EMA not reachable|EMA still not reachable/.test(l.msg),
  );
  assert.deepEqual(
    lines.map((l) => l.level),
    [40, 20],
    "warn on the change to unreachable, debug while it stays so",
  );
  assert.match(lines[0]?.msg ?? "", /answering locally, as in cloudless mode/);
  assert.ok(
    fw.exchanges.every((e) => e.answeredBy === "proxy" && e.message.type === "upload"),
    "uploads still decoded; answered by the proxy",
  );

  ema.behaviour.delayMs = 0;
  assert.deepEqual(await exchange(port, uploadWire()), EMA_UPLOAD_ANSWER);
  assert.equal(fw.forwarder.stats.emaReachable, true);
  assert.equal(fw.forwarder.stats.answersFromEma, 1);
  assert.ok(fw.logs.lines.some((l) => l.level === 30 && /EMA answers again/.test(l.msg)));
});

test("EMA refusing connections: local answer at once, counted, reason kept", async (t) => {
  const closed = await refusedPort();
  const fw = await startForwarding({ upstream: () => closed, timeoutMs: 1000 });
  t.after(() => fw.stop());
  const started = Date.now();
  const got = await ecuExchange(fw.ports[1] ?? 0, uploadWire(), { expectBytes: 17 });
  assert.equal(got.toString(), UPLOAD_ANSWER);
  assert.ok(Date.now() - started < 900, "no waiting for the timeout");
  const poll = await ecuExchange(fw.ports[1] ?? 0, POLL, { expectBytes: 52 });
  assert.equal(poll.toString(), `APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`);
  const stats = fw.forwarder.stats;
  assert.equal(stats.emaReachable, false);
  assert.equal(stats.answersFromProxy, 2);
  assert.match(stats.lastEmaError ?? "", /cannot connect to EMA at 127\.0\.0\.1:\d+: ECONNREFUSED/);
  assert.equal(fw.logs.lines.filter((l) => l.level === 40).length, 1);
});

test("EMA hanging up without an answer, or going silent in the middle of one: local answer", async (t) => {
  const ema = await new FakeEma().start(1);
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const port = fw.ports[0] ?? 0;
  const noCommands = `APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`;
  ema.behaviour.hangUp = true;
  const started = Date.now();
  const hungUp = await ecuExchange(port, POLL, { expectBytes: 52, timeoutMs: 3000 });
  assert.equal(hungUp.toString(), noCommands);
  assert.ok(Date.now() - started < 900, "no waiting for the timeout");
  assert.match(fw.forwarder.stats.lastEmaError ?? "", /closed the connection without an answer/);
  ema.behaviour.hangUp = false;

  // Half a control frame and then silence: never passed on (it would make the ECU loop, §7).
  ema.behaviour.answer = (req) =>
    apsFrame("A101", "AAA0", req.toString("latin1", 18, 30), `A100${"0".repeat(14)}`).subarray(
      0,
      30,
    );
  const half = await ecuExchange(port, POLL, { expectBytes: 52, timeoutMs: 3000 });
  assert.equal(half.toString(), noCommands);
  assert.match(
    fw.forwarder.stats.lastEmaError ?? "",
    /still incomplete after 1000 ms \(30 bytes\)/,
  );
  assert.equal(fw.forwarder.stats.answersFromEma, 0);
  assert.equal(fw.forwarder.stats.answersFromProxy, 2);
  assert.equal(ema.requests.length, 2, "both polls did reach EMA");
});
