import assert from "node:assert/strict";
import { test } from "node:test";
import { ProxyServer } from "../../src/proxy/server.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { captureLogs } from "../helpers/logs.js";
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

test("the global cap refuses extra connections with a log line", async () => {
  const { s, logs } = server({ maxConnections: 2 });
  await s.start();
  const port = s.boundPorts[0] ?? 0;
  const held = await Promise.all([1, 2].map(() => openSocket(port)));
  const extra = await openSocket(port);
  await closedWithin(extra, 2000);
  assert.ok(logs.lines.some((l) => /option max_connections\)/.test(l.msg)));
  for (const h of held) h.destroy();
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
