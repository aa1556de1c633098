/**
 * The status page's connection cap (issue 18 point 6) on real sockets: who makes room, and
 * what a connection is told when nobody can.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { BUSY_REPLY, PageConnections } from "../../src/status/connections.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { closedWithin, openSocket } from "../helpers/tcp.js";

const MAX = 3;

async function page(): Promise<{
  server: Server;
  port: number;
  table: PageConnections;
  accepted: Socket[];
  logs: ReturnType<typeof captureLogs>;
}> {
  const logs = captureLogs("info");
  const table = new PageConnections(MAX, logs.logger);
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    table.add(socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { server, port, table, accepted, logs };
}

async function connect(port: number, accepted: Socket[]): Promise<{ client: Socket; s: Socket }> {
  const before = accepted.length;
  const client = await openSocket(port);
  client.on("error", () => {});
  await waitFor(() => accepted.length > before, "the connection taken in");
  return { client, s: accepted[accepted.length - 1] as Socket };
}

test("at the cap the connection idle longest is closed; one that got its answer counts as idle from then", async (t) => {
  const { server, port, table, accepted, logs } = await page();
  t.after(() => {
    table.closeAll();
    server.close();
  });
  const a = await connect(port, accepted);
  const b = await connect(port, accepted);
  const c = await connect(port, accepted);
  // `a` was answered just now: idle since then, so `b` is the one idle longest.
  table.answeringOn(a.s);
  table.answered(a.s);
  const d = await connect(port, accepted);
  await closedWithin(b.client, 2000);
  assert.equal(table.size, MAX);
  assert.ok(!a.client.destroyed && !c.client.destroyed && !d.client.destroyed);
  assert.equal(table.evicted, 1);
  assert.match(logs.lines[0]?.msg ?? "", /status page: closing the connection idle longest/);
});

test("when every connection is being answered, a new one is told the page is busy", async (t) => {
  const { server, port, table, accepted, logs } = await page();
  t.after(() => {
    table.closeAll();
    server.close();
  });
  const held = [];
  for (let i = 0; i < MAX; i++) {
    const c = await connect(port, accepted);
    table.answeringOn(c.s);
    held.push(c);
  }
  const extra = await openSocket(port);
  let reply = "";
  extra.on("data", (d: Buffer) => {
    reply += d.toString();
  });
  await closedWithin(extra, 2000);
  assert.equal(reply, BUSY_REPLY);
  assert.match(reply, /^HTTP\/1\.1 503 .*\r\n\r\nstatus page busy: try again soon\.\n$/s);
  assert.equal(
    Buffer.byteLength(reply.split("\r\n\r\n")[1] ?? ""),
    Number(/content-length: (\d+)/.exec(reply)?.[1]),
  );
  assert.ok(
    held.every((c) => !c.client.destroyed),
    "no connection being answered is closed",
  );
  assert.ok(!table.holds(accepted[accepted.length - 1] as Socket));
  assert.match(logs.text(), /status page busy/);
});
