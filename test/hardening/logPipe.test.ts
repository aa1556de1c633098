/**
 * The log is never why the proxy stops (issue 18 point 5). The real program's stdout is a real
 * pipe: once with its reader closed (every write fails with EPIPE; 0.3.0 crashed on the first
 * and answered 1 of 5 uploads), once with a reader that never reads (the pipe fills; 0.3.0 held
 * every later line in memory, without bound). Uploads are the real 2024 ECU-R capture.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LOG_MAX_PENDING_BYTES } from "../../src/logSink.js";
import { exited, ROOT } from "../helpers/cli.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { waitFor } from "../helpers/logs.js";
import { canConnect, ecuExchange, freePort } from "../helpers/tcp.js";

/** The proxy with stdout and stderr as pipes; stderr is collected, stdout left to the test. */
async function serve(logLevel: string) {
  const dir = mkdtempSync(join(tmpdir(), "log-pipe-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "options.json"),
    JSON.stringify({ log_level: logLevel, timezone: "UTC" }),
  );
  const args = ["serve", "--options", join(dir, "options.json"), "--data-dir", join(dir, "data")];
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src", "cli.ts"), ...args, "--ports", String(port)],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return { child, port, stderr: () => stderr };
}

async function upload(port: number): Promise<boolean> {
  try {
    const answer = await ecuExchange(port, uploadWire(), { expectBytes: 17, timeoutMs: 3000 });
    return answer.toString("latin1") === UPLOAD_ANSWER;
  } catch {
    return false; // refused: the process is gone
  }
}

test("stdout's reader closed (EPIPE): 5 of 5 uploads answered, the process keeps running", async (t) => {
  const { child, port, stderr } = await serve("debug");
  t.after(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await waitFor(() => out.includes("listening for ECUs"), "proxy listening", 15_000);
  child.stdout?.destroy(); // the reader's end closes: every later write is EPIPE
  let answered = 0;
  for (let i = 0; i < 5; i++) {
    answered += Number(await upload(port));
    // Past the log's batching (50 ms): each upload's lines are written, and fail, before the next.
    await new Promise((r) => setTimeout(r, 120));
  }
  assert.equal(answered, 5, `answered ${answered} of 5; stderr: ${stderr()}`);
  assert.equal(child.exitCode, null, `the proxy exited: ${stderr()}`);
  child.kill("SIGTERM");
  assert.equal((await exited(child, 5000)).code, 0, "a clean stop, stdout gone or not");
  t.diagnostic(`EPIPE: ${answered} of 5 uploads answered; exit code 0 after SIGTERM`);
});

test("stdout a pipe nobody reads: every upload answered, the log held back bounded, the drop counted", async (t) => {
  // Trace level: ~1.8 KB of log per upload, so the flood below is several times the bound.
  const { child, port, stderr } = await serve("trace");
  t.after(() => child.kill("SIGKILL"));
  child.stdout?.pause(); // a reader that never reads: the pipe fills and stays full
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    assert.ok(Date.now() < deadline, `proxy not listening: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const flood = 2000;
  let answered = 0;
  const workers = Array.from({ length: 8 }, async () => {
    for (let i = 0; i < flood / 8; i++) if (await upload(port)) answered++;
  });
  await Promise.all(workers);
  let last = 0;
  for (let i = 0; i < 5; i++) last += Number(await upload(port));
  assert.equal(child.exitCode, null, `the proxy exited: ${stderr()}`);
  assert.equal(last, 5, "5 of 5 uploads answered with the pipe full");
  assert.equal(answered, flood, `${answered} of ${flood} answered during the flood`);

  // The reader reads again: what the proxy held back for it is bounded.
  let held = "";
  child.stdout?.on("data", (d: Buffer) => {
    held += d.toString();
  });
  child.stdout?.resume();
  // Read until the proxy has nothing more to give (0.3.0: every line of the flood, from memory).
  for (let seen = -1; seen !== held.length; ) {
    seen = held.length;
    await new Promise((r) => setTimeout(r, 500));
  }
  const dropped = [...held.matchAll(/(\d+) log line\(s\) dropped/g)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
  // + the pipe (64 KiB), this side's read buffer, the batch and lines written after the notice.
  const bound = LOG_MAX_PENDING_BYTES + 512 * 1024;
  const after = held.slice(held.indexOf("dropped: the log")).length;
  assert.ok(
    held.length <= bound,
    `${held.length} bytes held back (bound ${bound}), ${after} after the notice`,
  );
  assert.ok(dropped > 0, "one line says how many were dropped");
  child.kill("SIGTERM");
  assert.equal((await exited(child, 5000)).code, 0);
  t.diagnostic(
    `pipe nobody reads: ${answered + last} of ${flood + 5} uploads answered; ${held.length} bytes of log held back (bound ${bound}); ${dropped} lines dropped and counted`,
  );
});
