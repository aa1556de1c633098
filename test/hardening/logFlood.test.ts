import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { STATE_FILE } from "../../src/devices/stateFile.js";
import { REFUSED_ID_LIMITS } from "../../src/proxy/allowList.js";
import { EXCHANGE_LINE_LIMITS } from "../../src/proxy/exchangeLines.js";
import { exited, startCli } from "../helpers/cli.js";
import { ECU_ID, uploadFrame } from "../helpers/fixtures.js";
import { waitFor } from "../helpers/logs.js";
import { freePort } from "../helpers/tcp.js";

/**
 * Issue 18 point 7: every upload was an info line, also for ECUs left out by allowed_ecu_ids;
 * 400,000 forged uploads wrote 73 MiB of log in 12 s, and Home Assistant keeps that log in the
 * system journal. The real program, real captured frames over real TCP: resends of the same
 * rounds, a flood of new rounds and uploads of ECUs not in allowed_ecu_ids.
 */

const RESENT_ECU = ECU_ID;
const FLOOD_ECU = "216000064137";
const ROUNDS = 40;
const RESENDS = 25;
const NEW_ROUNDS = 1000;
const OTHER_IDS = 300;
const OTHER_ROUNDS = 5;
const CONNECTIONS = 10;

/** The real capture with its ECU id and round time (UTC, the test's timezone) rewritten (§3.1). */
function upload(ecuId: string, atMs: number): { wire: Buffer; answer: string } {
  const ts = new Date(atMs).toISOString().replace(/\D/g, "").slice(0, 14);
  let text = uploadFrame().toString("latin1");
  text = text.slice(0, 18) + ecuId + text.slice(30);
  text = text.slice(0, 60) + ts + text.slice(74);
  return { wire: Buffer.from(`${text}\n`, "latin1"), answer: `101${ts}` };
}

/** Sends the frames back to back on one connection; the answers, in order, 17 bytes each. */
function sendAll(port: number, frames: Buffer[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const expected = frames.length * 17;
    let got = "";
    const socket = connect({ port, host: "127.0.0.1" }, () => {
      for (const f of frames) socket.write(f);
    });
    const done = () => {
      socket.destroy();
      resolve(got.match(/.{17}/gs) ?? []);
    };
    socket.setTimeout(10_000, done);
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.length >= expected) done();
    });
    socket.on("close", done);
    socket.on("error", reject);
  });
}

test("a flood of uploads (resends, new rounds, ECUs not allowed) writes a bounded log; every round answered and counted", {
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "log-flood-"));
  const dataDir = join(dir, "data");
  const optionsFile = join(dir, "options.json");
  writeFileSync(
    optionsFile,
    JSON.stringify({
      log_level: "info",
      timezone: "UTC",
      allowed_ecu_ids: [RESENT_ECU, FLOOD_ECU],
    }),
  );
  const port = await freePort();
  const child = startCli(
    ["serve", "--options", optionsFile, "--ports", String(port), "--host", "127.0.0.1"].concat([
      "--data-dir",
      dataDir,
    ]),
  );
  t.after(async () => {
    child.kill("SIGKILL");
  });
  await waitFor(() => child.output().includes("listening for ECUs"), "proxy to listen", 15_000);
  const linesBefore = child.output().split("\n").length - 1;

  const now = Date.now();
  const sends: Array<{ wire: Buffer; answer: string }> = [];
  // One ECU's 40 rounds (5 min apart, the newest 5 min ago), each sent 1 + 25 times.
  for (let r = 0; r < ROUNDS; r++) {
    const round = upload(RESENT_ECU, now - (r + 1) * 5 * 60_000);
    for (let i = 0; i <= RESENDS; i++) sends.push(round);
  }
  // Another allowed id: 1,000 new rounds, 2 min apart.
  for (let r = 0; r < NEW_ROUNDS; r++) sends.push(upload(FLOOD_ECU, now - (r + 1) * 2 * 60_000));
  // 300 ids not in allowed_ecu_ids, 5 rounds each, each sent twice.
  for (let id = 0; id < OTHER_IDS; id++) {
    const ecu = `2160001${String(id).padStart(5, "0")}`;
    for (let r = 0; r < OTHER_ROUNDS; r++) {
      const round = upload(ecu, now - (r + 1) * 5 * 60_000);
      sends.push(round, round);
    }
  }
  // Interleaved over the connections, so that every kind arrives throughout the flood.
  const perConnection = Array.from({ length: CONNECTIONS }, (_, c) =>
    sends.filter((_, i) => i % CONNECTIONS === c),
  );
  const started = Date.now();
  const answers = await Promise.all(
    perConnection.map((list) =>
      sendAll(
        port,
        list.map((s) => s.wire),
      ),
    ),
  );
  const floodMs = Date.now() - started;
  let answered = 0;
  perConnection.forEach((list, c) => {
    list.forEach((s, i) => {
      if (answers[c]?.[i] === s.answer) answered++;
    });
  });
  assert.equal(answered, sends.length, "every upload got its answer");

  child.kill("SIGTERM");
  assert.equal((await exited(child, 10_000)).code, 0);
  const lines = child.output().split("\n").slice(linesBefore, -1);
  const uploadLines = lines.filter((l) => /ECU \d{12} \(ECU-R\) \d{4}-/.test(l));
  const summaries = lines.filter((l) => l.includes("exchange lines suppressed"));
  const suppressed = summaries.reduce(
    (n, l) => n + Number(/… ([\d,]+) exchange lines/.exec(l)?.[1]?.replace(/,/g, "") ?? NaN),
    0,
  );
  const allowedUploads = ROUNDS * (RESENDS + 1) + NEW_ROUNDS;
  const windows = Math.ceil(floodMs / EXCHANGE_LINE_LIMITS.windowMs) + 1;
  const exchangeBound = windows * EXCHANGE_LINE_LIMITS.linesPerWindow;
  // The allow-list names a few ids an hour and counts the rest in one line; start, doubts about
  // the backlog (once per ECU and kind in 10 minutes) and the stop take a few more.
  const bound = exchangeBound + windows + REFUSED_ID_LIMITS.linesPerWindow + 1 + 20;
  t.diagnostic(
    `${sends.length} uploads over ${CONNECTIONS} connections in ${floodMs} ms, all answered; ` +
      `${lines.length} log lines after start (bound ${bound}): ${uploadLines.length} upload ` +
      `lines, ${summaries.length} summary line(s) counting ${suppressed} more`,
  );
  if (process.env.SHOW_LINES) console.log(lines.filter((l) => !uploadLines.includes(l)).join("\n"));
  assert.ok(lines.length <= bound, `${lines.length} log lines:\n${lines.slice(0, 5).join("\n")}`);
  assert.ok(uploadLines.length <= exchangeBound, `${uploadLines.length} upload lines`);
  assert.ok(
    !uploadLines.some((l) => /ECU 2160001\d{5} \(/.test(l)),
    "no upload line of an ECU not in allowed_ecu_ids",
  );
  // Nothing is lost silently: the lines written and the counts add up to the uploads.
  assert.equal(uploadLines.length + suppressed, allowedUploads);
  assert.ok(summaries.length >= 1 && summaries.length <= windows, `${summaries.length} summaries`);
  const named = lines.filter((l) => l.includes("is not in allowed_ecu_ids")).length;
  assert.ok(named <= REFUSED_ID_LIMITS.linesPerWindow, `${named} ids named`);

  // Every valid round counted once, the ECUs not allowed not kept.
  const state = JSON.parse(readFileSync(join(dataDir, STATE_FILE), "utf8")) as {
    ecus: Record<string, { countedRounds: number[] }>;
  };
  assert.equal(state.ecus[RESENT_ECU]?.countedRounds.length, ROUNDS);
  assert.equal(state.ecus[FLOOD_ECU]?.countedRounds.length, NEW_ROUNDS);
  assert.deepEqual(Object.keys(state.ecus).sort(), [RESENT_ECU, FLOOD_ECU].sort());
});
