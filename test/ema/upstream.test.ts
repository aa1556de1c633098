import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import type { ResolvedRecord } from "../../src/ema/upstream.js";
import {
  dnsServerResolver,
  isOwnAddress,
  normaliseAddress,
  UpstreamAddress,
} from "../../src/ema/upstream.js";
import { FakeEma, fiveMinutesBefore } from "../helpers/ema.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { startForwarding } from "../helpers/forwarding.js";
import { ecuExchange } from "../helpers/tcp.js";

const EMA_UPLOAD_ANSWER = `101${fiveMinutesBefore("20240206112214")}`;
const LOOP_LINE = /is this proxy itself — forwarding would loop\. Set option ema_host/;

test("loop: ema_host is our own listening address and port → refused with a clear line, local answer, no connection to ourselves", async (t) => {
  const fw = await startForwarding({ host: "127.0.0.1" }); // same port as it arrived on
  t.after(() => fw.stop());
  const started = Date.now();
  const got = await ecuExchange(fw.ports[0] ?? 0, uploadWire(), { expectBytes: 17 });
  assert.equal(got.toString(), UPLOAD_ANSWER);
  assert.ok(Date.now() - started < 800, "refused at once, well before the 1 s limit");
  const line = fw.logs.lines.find((l) => LOOP_LINE.test(l.msg));
  assert.ok(line, "a log line explains the loop");
  assert.equal(line.level, 40);
  assert.match(line.msg, new RegExp(`127\\.0\\.0\\.1:${fw.ports[0]} is this proxy itself`));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fw.exchanges.length, 1, "the proxy never received its own forward");
  assert.equal(fw.forwarder.stats.emaReachable, false);
  assert.match(fw.forwarder.stats.lastEmaError ?? "", LOOP_LINE);
});

test("loop: ema_host resolved (via the injected resolver) to our address → refused", async (t) => {
  const asked: string[] = [];
  const fw = await startForwarding({
    host: "ecu.apsystemsema.com",
    resolve: async (host) => {
      asked.push(host);
      return [{ address: "::ffff:127.0.0.1", ttl: 60 }];
    },
  });
  t.after(() => fw.stop());
  const got = await ecuExchange(fw.ports[1] ?? 0, uploadWire(), { expectBytes: 17 });
  assert.equal(got.toString(), UPLOAD_ANSWER);
  assert.deepEqual(asked, ["ecu.apsystemsema.com"]);
  assert.ok(
    fw.logs.lines.some(
      (l) => LOOP_LINE.test(l.msg) && /\(ecu\.apsystemsema\.com via 127\.0\.0\.1\)/.test(l.msg),
    ),
  );
});

test("a name resolved to our own address but another port is no loop; the answer is cached for its TTL", async (t) => {
  const ema = await new FakeEma().start(1);
  let offset = 0;
  const asked: string[] = [];
  const fw = await startForwarding({
    host: "ecu.apsystemsema.com",
    resolve: async (host) => {
      asked.push(host);
      return [{ address: "127.0.0.1", ttl: 120 }];
    },
    upstream: () => ema.ports[0] ?? 0,
    now: () => Date.now() + offset,
  });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const port = fw.ports[0] ?? 0;
  for (let i = 0; i < 3; i++) {
    const got = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
    assert.equal(got.toString(), EMA_UPLOAD_ANSWER);
  }
  assert.equal(asked.length, 1, "one DNS query for three requests");
  offset = 121_000;
  await ecuExchange(port, uploadWire(), { expectBytes: 17 });
  assert.equal(asked.length, 2, "asked again after the TTL");
});

test("DNS failure or a DNS server that does not answer in time → local answer and a log line", async (t) => {
  let mode: "fail" | "hang" = "fail";
  const fw = await startForwarding({
    host: "ecu.apsystemsema.com",
    timeoutMs: 1000,
    resolve: (): Promise<ResolvedRecord[]> =>
      mode === "fail"
        ? Promise.reject(Object.assign(new Error("queryA ENOTFOUND"), { code: "ENOTFOUND" }))
        : new Promise(() => {}),
  });
  t.after(() => fw.stop());
  const port = fw.ports[0] ?? 0;
  assert.equal(
    (await ecuExchange(port, uploadWire(), { expectBytes: 17 })).toString(),
    UPLOAD_ANSWER,
  );
  assert.match(
    fw.forwarder.stats.lastEmaError ?? "",
    /cannot resolve ecu\.apsystemsema\.com: ENOTFOUND/,
  );
  assert.ok(fw.logs.lines.some((l) => l.level === 40 && /cannot resolve/.test(l.msg)));

  mode = "hang";
  const started = Date.now();
  const got = await ecuExchange(port, uploadWire(), { expectBytes: 17, timeoutMs: 3000 });
  assert.equal(got.toString(), UPLOAD_ANSWER);
  const ms = Date.now() - started;
  assert.ok(ms >= 950 && ms < 1600, `answered after ${ms} ms`);
  assert.match(fw.forwarder.stats.lastEmaError ?? "", /resolving .* took longer than 1000 ms/);
});

/** A minimal DNS server on loopback UDP answering every A query with `address`. */
async function fakeDns(address: string, ttl: number) {
  const queries: string[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (msg, peer) => {
    let at = 12;
    const labels: string[] = [];
    for (let len = msg[at] ?? 0; len > 0; len = msg[at] ?? 0) {
      labels.push(msg.toString("latin1", at + 1, at + 1 + len));
      at += len + 1;
    }
    const questionEnd = at + 5; // zero byte + type + class
    const qtype = msg.readUInt16BE(at + 1);
    queries.push(`${labels.join(".")}/${qtype}`);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8180, 2); // response, recursion desired+available, no error
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(qtype === 1 ? 1 : 0, 6);
    const question = msg.subarray(12, questionEnd);
    const answer = Buffer.alloc(16);
    answer.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    answer.writeUInt16BE(1, 2); // A
    answer.writeUInt16BE(1, 4); // IN
    answer.writeUInt32BE(ttl, 6);
    answer.writeUInt16BE(4, 10);
    for (const [i, part] of address.split(".").entries()) answer[12 + i] = Number(part);
    const parts = qtype === 1 ? [header, question, answer] : [header, question];
    socket.send(Buffer.concat(parts), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, queries, close: () => socket.close() };
}

test("dnsServerResolver asks only the configured server (here a stand-in on loopback, with a port)", async (t) => {
  const dns = await fakeDns("127.0.0.9", 77);
  t.after(() => dns.close());
  const resolve = dnsServerResolver(`127.0.0.1:${dns.port}`, 1000);
  const records = await resolve("ecu.apsystemsema.com");
  assert.deepEqual(records, [{ address: "127.0.0.9", ttl: 77 }]);
  assert.deepEqual(dns.queries, ["ecu.apsystemsema.com/1"]);
});

test("dnsServerResolver with a server that is not an address rejects with a hint", async () => {
  await assert.rejects(
    dnsServerResolver("dns.example", 1000)("ecu.apsystemsema.com"),
    /option ema_dns_server 'dns\.example' is not an IP address/,
  );
});

test("UpstreamAddress: an IP needs no resolving; concurrent lookups share one query", async () => {
  let calls = 0;
  const ip = new UpstreamAddress("3.67.1.32", async () => {
    calls++;
    return [];
  });
  assert.equal(await ip.lookup(), "3.67.1.32");
  assert.equal(calls, 0);
  const name = new UpstreamAddress("ecu.apsystemsema.com", async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 20));
    return [{ address: "127.0.0.1", ttl: 0 }];
  });
  const all = await Promise.all([name.lookup(), name.lookup(), name.lookup()]);
  assert.deepEqual(all, ["127.0.0.1", "127.0.0.1", "127.0.0.1"]);
  assert.equal(calls, 1);
  const empty = new UpstreamAddress("ecu.apsystemsema.com", async () => []);
  await assert.rejects(empty.lookup(), /no address in the answer/);
});

test("isOwnAddress: loopback, unspecified, mapped and interface addresses", () => {
  const interfaces = {
    eth0: [
      {
        address: "192.0.2.44",
        netmask: "255.255.255.0",
        family: "IPv4" as const,
        mac: "00:00:00:00:00:00",
        internal: false,
        cidr: "192.0.2.44/24",
      },
      {
        address: "fe80::1",
        netmask: "ffff:ffff:ffff:ffff::",
        family: "IPv6" as const,
        mac: "00:00:00:00:00:00",
        internal: false,
        cidr: "fe80::1/64",
        scopeid: 2,
      },
    ],
  };
  for (const own of ["127.0.0.1", "127.1.2.3", "::1", "0.0.0.0", "::", "::ffff:127.0.0.1"]) {
    assert.equal(isOwnAddress(own, {}), true, own);
  }
  assert.equal(isOwnAddress("192.0.2.44", interfaces), true);
  assert.equal(isOwnAddress("::ffff:192.0.2.44", interfaces), true);
  assert.equal(isOwnAddress("FE80::1%eth0", interfaces), true);
  assert.equal(isOwnAddress("3.67.1.32", interfaces), false);
  assert.equal(isOwnAddress("192.0.2.45", interfaces), false);
  assert.equal(normaliseAddress("::FFFF:10.0.0.1"), "10.0.0.1");
});
