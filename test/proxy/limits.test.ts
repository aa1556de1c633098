import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { test } from "node:test";
import { MAX_PENDING_FRAMES } from "../../src/proxy/connectionTable.js";
import { LOG_EVERY_NTH_REFUSAL, LOG_FIRST_REFUSALS } from "../../src/proxy/exchangeLog.js";
import { ProxyServer } from "../../src/proxy/server.js";
import { ECU_ID, UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { closedWithin, ecuExchange, openSocket } from "../helpers/tcp.js";

function server(overrides: Partial<ConstructorParameters<typeof ProxyServer>[0]> = {}) {
  const logs = captureLogs("info");
  const s = new ProxyServer({
    host: "127.0.0.1",
    ports: [0],
    maxMessageBytes: 64 * 1024,
    idleTimeoutMs: 5000,
    maxConnections: 100,
    maxConnectionsPerAddress: 100,
    logger: logs.logger,
    ...overrides,
  });
  return { s, logs };
}

test("the per-address cap refuses extra connections with a log line; others still work", async () => {
  const { s, logs } = server({ maxConnectionsPerAddress: 3 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const held = await Promise.all([1, 2, 3].map(() => openSocket(port)));
  const extra = await openSocket(port);
  await closedWithin(extra, 2000);
  assert.ok(logs.lines.some((l) => /option max_connections_per_address/.test(l.msg)));
  for (const h of held) h.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    (await ecuExchange(port, uploadWire(), { expectBytes: 17 })).toString(),
    UPLOAD_ANSWER,
  );
  await s.stop();
});

/** Connects and waits until the server holds `open` connections. */
async function held(s: ProxyServer, port: number, open: number) {
  const socket = await openSocket(port);
  socket.on("error", () => {});
  await waitFor(() => s.openConnections === open, `${open} open connections`);
  return socket;
}

/** Sends a nightly-sync request (answered `100`) and waits for the answer on `socket`. */
function syncOn(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once("data", () => resolve());
    socket.write(`APS13AAA22${ECU_ID}\n`);
  });
}

test("at max_connections the connection idle longest without a complete frame makes room", async () => {
  const { s, logs } = server({ maxConnections: 3 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const framed = await held(s, port, 1);
  await syncOn(framed);
  const oldest = await held(s, port, 2);
  const oldestPort = oldest.localPort;
  const newer = await held(s, port, 3);
  assert.equal(
    (await ecuExchange(port, uploadWire(), { expectBytes: 17 })).toString(),
    UPLOAD_ANSWER,
  );
  await closedWithin(oldest, 2000);
  assert.equal(newer.destroyed, false);
  assert.equal(framed.destroyed, false);
  assert.equal(s.evictedConnections, 1);
  const line = logs.lines.find((l) => /to make room/.test(l.msg));
  assert.match(
    String(line?.msg),
    /^closing the connection idle longest \(idle \d+\.\d s without a complete frame\) to make room for 127\.0\.0\.1 on port \d+: 3 connections are open \(option max_connections\)$/,
  );
  assert.equal(line?.remote, `127.0.0.1:${oldestPort}`);
  for (const c of [framed, newer]) c.destroy();
  await s.stop();
});

test("bytes of an unfinished frame count as activity: the silent connection goes first", async () => {
  const { s } = server({ maxConnections: 2 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const talking = await held(s, port, 1);
  const silent = await held(s, port, 2);
  talking.write("APS18");
  await new Promise((r) => setTimeout(r, 50));
  const third = await openSocket(port);
  await closedWithin(silent, 2000);
  assert.equal(talking.destroyed, false);
  for (const c of [talking, third]) c.destroy();
  await s.stop();
});

test("when every connection has had its answers, the one idle longest makes room", async () => {
  const { s } = server({ maxConnections: 2 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const first = await held(s, port, 1);
  const second = await held(s, port, 2);
  await syncOn(second);
  await syncOn(first);
  // `second` was answered before `first`: it has been idle longest.
  const third = await openSocket(port);
  await closedWithin(second, 2000);
  assert.equal(first.destroyed, false);
  for (const c of [first, third]) c.destroy();
  await s.stop();
});

test("a connection waiting for its answer is never closed: at the cap a new one is refused", async () => {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const { s, logs } = server({
    maxConnections: 2,
    responder: async () => {
      await released;
      return { answer: Buffer.from("100"), answeredBy: "proxy" };
    },
  });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const waiting = [await held(s, port, 1), await held(s, port, 2)];
  const answers = waiting.map(syncOn);
  await new Promise((r) => setTimeout(r, 50));
  const extra = await openSocket(port);
  extra.on("error", () => {});
  await closedWithin(extra, 2000);
  assert.equal(s.evictedConnections, 0);
  assert.equal(s.refusedConnections, 1);
  assert.ok(
    logs.lines.some((l) =>
      /each waiting for its answer \(option max_connections\)/.test(String(l.msg)),
    ),
  );
  release();
  await Promise.all(answers);
  for (const c of waiting) c.destroy();
  await s.stop();
});

test("an address at its own cap is refused; nothing is closed to make room for it", async () => {
  const { s } = server({ maxConnections: 2, maxConnectionsPerAddress: 1 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const first = await held(s, port, 1);
  const extra = await openSocket(port);
  extra.on("error", () => {});
  await closedWithin(extra, 2000);
  assert.equal(first.destroyed, false);
  assert.equal(s.evictedConnections, 0);
  first.destroy();
  await s.stop();
});

test(`refusals are logged one by one up to ${LOG_FIRST_REFUSALS}, then every ${LOG_EVERY_NTH_REFUSAL}th with the count`, async () => {
  const { s, logs } = server({ maxConnectionsPerAddress: 1 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const first = await held(s, port, 1);
  for (let i = 0; i < 250; i++) {
    const extra = await openSocket(port);
    extra.on("error", () => {});
    await closedWithin(extra, 2000);
  }
  const lines = logs.lines.filter((l) => /^refusing connection/.test(l.msg));
  assert.deepEqual(
    lines.map((l) => l.refused),
    [1, 2, 3, 4, 5, 100, 200],
  );
  assert.equal(s.refusedConnections, 250);
  first.destroy();
  await s.stop();
});

test(`a peer that sends without waiting for answers is read at most ${MAX_PENDING_FRAMES} frames and one read ahead`, async (t) => {
  // Forwarding mode answers each frame of a connection in turn, after EMA: here 1 ms each.
  let maxPending = 0;
  const { s } = server({
    responder: async () => {
      maxPending = Math.max(maxPending, s.pendingFrames);
      await new Promise((r) => setTimeout(r, 1));
      return { answer: Buffer.from("100"), answeredBy: "proxy" };
    },
  });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const socket = await openSocket(port);
  socket.on("error", () => {});
  const burst = Buffer.from(`APS13AAA22${ECU_ID}\n`.repeat(100));
  const until = Date.now() + 1500;
  let sent = 0;
  while (Date.now() < until && sent < 100_000) {
    sent += 100;
    if (!socket.write(burst)) {
      await Promise.race([
        new Promise((r) => socket.once("drain", r)),
        new Promise((r) => setTimeout(r, until - Date.now())),
      ]);
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  // One read is at most 64 KiB: 2,849 of these 23-byte frames.
  const bound = MAX_PENDING_FRAMES + Math.ceil(65536 / 23);
  t.diagnostic(`sent ${sent} frames; at most ${maxPending} held at once (bound ${bound})`);
  assert.ok(sent > 2 * bound, `only ${sent} sent`);
  assert.ok(maxPending <= bound, `${maxPending} frames held`);
  socket.destroy();
  await s.stop();
});

test("stop() answers what is in flight, closes open connections, and returns within 2 s", async () => {
  const { s } = server();
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const idle = await openSocket(port);
  const answered = ecuExchange(port, uploadWire(), { expectBytes: 17 });
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  await s.stop();
  assert.ok(Date.now() - started < 2000);
  assert.equal((await answered).toString(), UPLOAD_ANSWER);
  await closedWithin(idle, 1000);
  assert.equal(s.openConnections, 0);
});

test("a port already in use fails start with a clear message", async () => {
  const { s: first } = server();
  await first.start();
  const { s: second } = server({ ports: first.boundPorts });
  await assert.rejects(
    second.start(),
    /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE \(another program uses this port\)/,
  );
  await first.stop();
});
