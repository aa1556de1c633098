import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { decodeFrame } from "../../src/protocol/decode.js";
import { Framer } from "../../src/protocol/framer.js";
import { ProxyServer } from "../../src/proxy/server.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { hostileInput } from "../helpers/hostile.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { ecuExchange, openSocket } from "../helpers/tcp.js";

const COUNT = 2000;
const CONCURRENCY = 25;

/** How many log-worthy rejections one input causes on a fresh connection (framer + decoder). */
function expectedRejections(input: Buffer): number {
  const framer = new Framer(64 * 1024);
  let n = 0;
  for (const e of framer.push(Buffer.concat([input, Buffer.from("\n")]))) {
    if (e.kind === "error") n++;
    else if (decodeFrame(e.frame).type === "error") n++;
  }
  return n;
}

/** Sends hostile bytes + LF + a valid upload; resolves with the client port and what came back. */
function hostileThenValid(
  port: number,
  input: Buffer,
): Promise<{ localPort: number; got: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: "127.0.0.1" });
    let localPort = 0;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ localPort, got: Buffer.concat(chunks).toString("latin1") });
    };
    const timer = setTimeout(done, 3000);
    socket.on("connect", () => {
      localPort = socket.localPort ?? 0;
      socket.write(Buffer.concat([input, Buffer.from("\n"), uploadWire()]));
    });
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).toString("latin1").endsWith(UPLOAD_ANSWER)) done();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}

test(`${COUNT} hostile inputs over real sockets: no crash, each rejection logged, valid uploads answered`, async (t) => {
  const logs = captureLogs("info");
  const server = new ProxyServer({
    host: "127.0.0.1",
    ports: [0],
    maxMessageBytes: 64 * 1024,
    idleTimeoutMs: 500,
    maxConnections: 200,
    maxConnectionsPerAddress: 200,
    logger: logs.logger,
  });
  await server.start();
  t.after(() => server.stop());
  const port = server.boundPorts[0] ?? 0;
  const inputs = fc.sample(hostileInput, { numRuns: COUNT, seed: 42 });
  const results: Array<{ input: Buffer; localPort: number; got: string }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < inputs.length) {
        const input = inputs[next++] as Buffer;
        results.push({ input, ...(await hostileThenValid(port, input)) });
      }
    }),
  );

  let answeredSameConnection = 0;
  let answeredOnRetry = 0;
  let unloggedRejections = 0;
  for (const r of results) {
    if (r.got.endsWith(UPLOAD_ANSWER)) answeredSameConnection++;
    else {
      // The hostile bytes declared a frame that swallowed the upload (or were fatal): the
      // connection was closed; a new connection must be answered.
      const again = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
      assert.equal(again.toString(), UPLOAD_ANSWER);
      answeredOnRetry++;
    }
    const expected = expectedRejections(r.input);
    if (expected > 0) {
      const lines = logs.lines.filter(
        (l) => l.level >= 40 && l.remote === `127.0.0.1:${r.localPort}` && /^rejected /.test(l.msg),
      );
      if (lines.length === 0) unloggedRejections++;
    }
  }
  t.diagnostic(
    `inputs ${COUNT}: answered on the same connection ${answeredSameConnection}, after reconnect ${answeredOnRetry}, rejections without a log line ${unloggedRejections}`,
  );
  assert.equal(answeredSameConnection + answeredOnRetry, COUNT);
  assert.equal(unloggedRejections, 0);
});

test("1,000 silent or trickling connections are closed by the idle timeout; an ECU is answered meanwhile", async (t) => {
  const logs = captureLogs("warning");
  const server = new ProxyServer({
    host: "127.0.0.1",
    ports: [0],
    maxMessageBytes: 64 * 1024,
    idleTimeoutMs: 1500,
    maxConnections: 2000,
    maxConnectionsPerAddress: 2000,
    logger: logs.logger,
  });
  await server.start();
  const port = server.boundPorts[0] ?? 0;
  const rssBefore = process.memoryUsage().rss;
  const sockets = await Promise.all(Array.from({ length: 1000 }, () => openSocket(port)));
  const closed = sockets.map((s) => new Promise<void>((r) => s.once("close", () => r())));
  // Half of them trickle one byte every 2 s: the idle timeout counts silence, so a peer slower
  // than the timeout is cut too.
  const trickle = setInterval(() => {
    for (const s of sockets.slice(0, 500)) if (!s.destroyed) s.write("A");
  }, 2000);
  for (const s of sockets) s.on("error", () => {});
  try {
    const started = Date.now();
    const answer = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
    const latencyMs = Date.now() - started;
    assert.equal(answer.toString(), UPLOAD_ANSWER);
    assert.equal(server.openConnections >= 1000, true);
    await Promise.all(closed);
    await waitFor(() => server.openConnections === 0, "server to drop every idle connection");
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1e6;
    t.diagnostic(
      `1000 idle connections: all closed by the idle timeout; upload answered meanwhile in ${latencyMs} ms; RSS growth ${rssGrowthMb.toFixed(1)} MB (server and clients in one process)`,
    );
    assert.equal(server.openConnections, 0);
    assert.ok(rssGrowthMb < 100, `RSS grew ${rssGrowthMb} MB`);
  } finally {
    clearInterval(trickle);
    for (const s of sockets) s.destroy();
    await server.stop();
  }
});

test("closing connections to make room leaves nothing behind: heap flat over 5,000 connections", async (t) => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const heapMb = () => {
    gc();
    return process.memoryUsage().heapUsed / 1e6;
  };
  const server = new ProxyServer({
    host: "127.0.0.1",
    ports: [0],
    maxMessageBytes: 64 * 1024,
    idleTimeoutMs: 30_000,
    maxConnections: 512,
    maxConnectionsPerAddress: 32,
    logger: captureLogs("warning").logger,
  });
  await server.start();
  const port = server.boundPorts[0] ?? 0;
  let open: Socket[] = [];
  const heap: number[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      // 1,000 idle connections from 127.0.0.2 … 127.0.0.101 (10 each).
      for (let wave = 0; wave < 10; wave++) {
        open.push(
          ...(await Promise.all(
            Array.from({ length: 100 }, (_, a) =>
              openSocket(port, "127.0.0.1", `127.0.0.${a + 2}`),
            ),
          )),
        );
      }
      for (const s of open) s.on("error", () => {});
      await waitFor(() => open.filter((s) => !s.destroyed).length <= 512, "room made");
      open = open.filter((s) => !s.destroyed);
      heap.push(heapMb());
    }
    t.diagnostic(
      `5 × 1,000 idle connections, ${server.evictedConnections} closed to make room; heap after GC per round: ${heap.map((h) => h.toFixed(1)).join(", ")} MB`,
    );
    assert.equal(server.evictedConnections, 5000 - 512);
    assert.ok((heap[4] ?? 0) - (heap[0] ?? 0) < 2, "heap grew by round");
  } finally {
    for (const s of open) s.destroy();
    await server.stop();
  }
});
