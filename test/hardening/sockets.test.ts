import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
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
