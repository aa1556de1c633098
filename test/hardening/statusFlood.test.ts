import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkFdBudget, fdsNeeded, openFilesLimit, RESERVED_FDS } from "../../src/fdBudget.js";
import { optionProperties } from "../../src/options/schema.js";
import { STATUS_LIMITS } from "../../src/status/limits.js";
import { exited, startCliWithFdLimit } from "../helpers/cli.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { ecuExchange, freePort, openSocket } from "../helpers/tcp.js";

/**
 * Issue 18 point 6: at a file-descriptor limit of 1024 (a common container default), 1,003
 * status-page connections whose headers never finish used to take every descriptor, and every
 * ECU was locked out (0 of 20 answered) until they went. The real program, under that limit.
 */

const FD_LIMIT = 1024;
const SLOW_CLIENTS = 1003;
const UPLOADS = 20;
/** Headers that never finish: no blank line ever follows. */
const UNFINISHED = "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** GET `path` on the page; the status code, or the error's code when there is no answer. */
function get(port: number, path: string, timeoutMs = 3000): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ port, host: "127.0.0.1", path, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

interface Slow {
  socket: Socket;
  openedAt: number;
  closedAt?: number;
  reply: string;
}

const ownLimit = openFilesLimit() ?? 0;
const skip =
  ownLimit < SLOW_CLIENTS + UPLOADS + 200
    ? `this test process may open only ${ownLimit} files; it needs ${SLOW_CLIENTS + UPLOADS + 200}`
    : false;

test(`${SLOW_CLIENTS} status-page clients that never finish their headers lock no ECU out (fd limit ${FD_LIMIT})`, {
  skip,
  timeout: 60_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "status-flood-"));
  const optionsFile = join(dir, "options.json");
  writeFileSync(optionsFile, JSON.stringify({ log_level: "info", timezone: "UTC" }));
  const [port, statusPort] = [await freePort(), await freePort()];
  const child = startCliWithFdLimit(
    [
      "serve",
      ...["--options", optionsFile, "--ports", String(port), "--host", "127.0.0.1"],
      ...["--data-dir", join(dir, "data"), "--status-port", String(statusPort)],
    ],
    FD_LIMIT,
  );
  const slow: Slow[] = [];
  t.after(async () => {
    for (const s of slow) s.socket.destroy();
    child.kill("SIGTERM");
    await exited(child, 5000).catch(() => child.kill("SIGKILL"));
  });
  await waitFor(() => child.output().includes("status page on"), "the status page", 15_000);
  const pid = child.pid ?? 0;
  assert.equal(openFilesLimit(`/proc/${pid}/limits`), FD_LIMIT, "the program runs under the limit");
  assert.ok(!child.output().includes("open-files limit"), "the default limits fit in 1024");
  assert.equal(
    (await ecuExchange(port, uploadWire(), { expectBytes: 17 })).toString(),
    UPLOAD_ANSWER,
  );
  const fdsBefore = openFds(pid);

  const floodStarted = Date.now();
  for (let opened = 0; opened < SLOW_CLIENTS; opened += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, SLOW_CLIENTS - opened) }, () => openSocket(statusPort)),
    );
    for (const socket of batch) {
      const entry: Slow = { socket, openedAt: Date.now(), reply: "" };
      socket.on("error", () => {});
      socket.on("data", (d: Buffer) => {
        entry.reply += d.toString("latin1");
      });
      socket.once("close", () => {
        entry.closedAt = Date.now();
      });
      socket.write(UNFINISHED);
      slow.push(entry);
    }
  }
  const floodMs = Date.now() - floodStarted;
  await new Promise((r) => setTimeout(r, 300));
  const fdsFlooded = openFds(pid);
  const heldAfterFlood = slow.filter((s) => s.closedAt === undefined).length;

  // 20 ECUs, all at once, while the page is flooded.
  const answers = await Promise.all(
    Array.from({ length: UPLOADS }, () =>
      ecuExchange(port, uploadWire(), { expectBytes: 17, timeoutMs: 5000 }).then(
        (a) => a.toString(),
        (err: Error) => err.message,
      ),
    ),
  );
  const answered = answers.filter((a) => a === UPLOAD_ANSWER).length;
  // The page's real user still gets the page, though flooded.
  const pageDuringFlood = await get(statusPort, "/api/status");
  t.diagnostic(
    `${SLOW_CLIENTS} unfinished requests opened in ${floodMs} ms; page held ` +
      `${heldAfterFlood} (cap ${STATUS_LIMITS.maxConnections}); program fds ` +
      `${fdsBefore} → ${fdsFlooded} of ${FD_LIMIT}; ${answered}/${UPLOADS} uploads answered; ` +
      `/api/status during the flood: ${pageDuringFlood}`,
  );
  assert.equal(answered, UPLOADS, `answers: ${JSON.stringify(answers.slice(0, 3))}`);
  assert.equal(pageDuringFlood, 200, "the page answers its real user during the flood");
  assert.ok(
    heldAfterFlood <= STATUS_LIMITS.maxConnections,
    `the page held ${heldAfterFlood} connections`,
  );

  // The ones the page kept are closed by the header timeout, with a 408.
  const deadline = STATUS_LIMITS.headersTimeoutMs + STATUS_LIMITS.checkIntervalMs + 3000;
  await waitFor(
    () => slow.every((s) => s.closedAt !== undefined),
    "every slow client closed",
    deadline + 1000,
  );
  const timedOut = slow.filter((s) => s.reply.startsWith("HTTP/1.1 408"));
  const latest = Math.max(...slow.map((s) => (s.closedAt ?? 0) - s.openedAt));
  t.diagnostic(
    `${timedOut.length} closed by the header timeout (408), ${SLOW_CLIENTS - timedOut.length} ` +
      `closed to make room; the last after ${latest} ms`,
  );
  assert.ok(timedOut.length >= 1, "the header timeout closed the connections the page kept");
  assert.ok(latest <= deadline, `a slow client was held ${latest} ms`);
  for (const s of timedOut) {
    const held = (s.closedAt ?? 0) - s.openedAt;
    assert.ok(held >= STATUS_LIMITS.headersTimeoutMs - 500, `closed after ${held} ms`);
  }
  // Said in the log, not once per connection.
  const lines = child.output().match(/status page: closing/g)?.length ?? 0;
  assert.ok(lines >= 1 && lines <= 20, `${lines} lines about making room`);
});

const MAX_CONNECTIONS = optionProperties.max_connections.default;

test("a limit too small for the connection limits is said at start, with the max_connections that fits", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fd-budget-"));
  const optionsFile = join(dir, "options.json");
  writeFileSync(optionsFile, JSON.stringify({ timezone: "UTC" }));
  const [port, statusPort] = [await freePort(), await freePort()];
  const limit = 512;
  const child = startCliWithFdLimit(
    [
      "serve",
      ...["--options", optionsFile, "--ports", String(port), "--host", "127.0.0.1"],
      ...["--data-dir", join(dir, "data"), "--status-port", String(statusPort)],
    ],
    limit,
  );
  t.after(async () => {
    child.kill("SIGTERM");
    await exited(child, 5000).catch(() => child.kill("SIGKILL"));
  });
  await waitFor(() => child.output().includes("open-files limit"), "the warning", 15_000);
  const fits = limit - STATUS_LIMITS.maxConnections - RESERVED_FDS;
  const needed = MAX_CONNECTIONS + STATUS_LIMITS.maxConnections + RESERVED_FDS;
  assert.match(
    child.output(),
    new RegExp(
      `open-files limit \\(${limit}\\) is below .* \\(${needed}: .*set max_connections to ${fits} or less`,
    ),
  );
  // Only said: the ECUs are answered as before.
  assert.equal(
    (await ecuExchange(port, uploadWire(), { expectBytes: 17 })).toString(),
    UPLOAD_ANSWER,
  );
});

test("forwarding needs a descriptor for EMA per ECU connection: counted in the budget", () => {
  const logs = captureLogs("info");
  const needs = { maxConnections: MAX_CONNECTIONS, forwarding: true, statusPage: true };
  assert.equal(fdsNeeded(needs), 2 * MAX_CONNECTIONS + STATUS_LIMITS.maxConnections + RESERVED_FDS);
  checkFdBudget(needs, logs.logger, FD_LIMIT);
  const fits = Math.floor((FD_LIMIT - STATUS_LIMITS.maxConnections - RESERVED_FDS) / 2);
  assert.equal(logs.lines.length, 1);
  assert.match(logs.lines[0]?.msg ?? "", new RegExp(`set max_connections to ${fits} or less`));
  checkFdBudget({ ...needs, forwarding: false }, logs.logger, FD_LIMIT);
  checkFdBudget(needs, logs.logger, undefined);
  assert.equal(logs.lines.length, 1, "nothing said when it fits, or when the limit is unknown");
});
