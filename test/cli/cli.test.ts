import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { exited, runCli, startCli } from "../helpers/cli.js";
import { ECU_ID, firmwareQuery, SAMPLES, UPLOAD_FILE } from "../helpers/fixtures.js";
import { waitFor } from "../helpers/logs.js";
import { freePort } from "../helpers/tcp.js";

test("decode prints the public JSON for a captured upload", () => {
  const { code, stdout, stderr } = runCli(["decode", join(SAMPLES, UPLOAD_FILE)]);
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1);
  const json = JSON.parse(lines[0] ?? "");
  assert.equal(json.type, "upload");
  assert.deepEqual(Object.keys(json.ecu).slice(0, 6), [
    "id",
    "model",
    "timestamp",
    "powerW",
    "lifetimeEnergyKWh",
    "invertersOnline",
  ]);
  assert.deepEqual(Object.keys(json.inverters[0]).slice(0, 7), [
    "uid",
    "typeCode",
    "model",
    "frequencyHz",
    "temperatureC",
    "acVoltageV",
    "channels",
  ]);
  assert.deepEqual(json.inverters[1].channels[3], {
    powerW: 43,
    dcVoltageV: 32.9,
    dcCurrentA: 1.4,
    energyWh: 3.437,
  });
});

test("decode reads stdin, one message per line, binary ECU11 frames too", () => {
  const input = Buffer.concat([
    Buffer.from(`APS13AAA22${ECU_ID}\n{"EID":"${ECU_ID}",}\n`),
    firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"),
    Buffer.from("\n"),
  ]);
  const { code, stdout } = runCli(["decode"], input);
  assert.equal(code, 0);
  assert.deepEqual(
    stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).type),
    ["sync_request", "sync_request", "firmware_query"],
  );
});

test("decode exits 1 with a message on stderr for a message that does not decode", () => {
  const dir = mkdtempSync(join(tmpdir(), "decode-"));
  const file = join(dir, "bad.txt");
  writeFileSync(file, `APS13AAA22${ECU_ID}\nAPS18AA099AAAAAA\n`);
  const { code, stdout, stderr } = runCli(["decode", file]);
  assert.equal(code, 1);
  assert.equal(stdout.trim().split("\n").length, 1);
  assert.match(
    stderr,
    /bad\.txt: message 2: bad_length: length field says 99 bytes but the line ended after 16/,
  );
});

test("serve + simulate: the user's check passes, and SIGTERM exits 0 within 2 s", async () => {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "serve-"));
  const proxy = startCli([
    "serve",
    "--ports",
    String(port),
    "--host",
    "127.0.0.1",
    "--data-dir",
    dataDir,
  ]);
  try {
    await waitFor(() => proxy.output().includes("listening for ECUs"), "proxy to listen", 15000);
    const sim = runCli(["simulate", "--host", "127.0.0.1", "--port", String(port)]);
    assert.equal(sim.code, 0, sim.stdout + sim.stderr);
    assert.match(sim.stdout, /answer after \d+ ms: "101\d{14}"/);
    assert.match(sim.stdout, /^OK: /m);
    const captured = runCli([
      "simulate",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--file",
      join(SAMPLES, UPLOAD_FILE),
    ]);
    assert.equal(captured.code, 0);
    assert.match(captured.stdout, /"10120240206112214"/);
    await waitFor(() => proxy.output().includes("ECU 216000064136 (ECU-R)"), "upload log line");
    proxy.kill("SIGTERM");
    const { code, ms } = await exited(proxy, 5000);
    assert.equal(code, 0);
    assert.ok(ms < 2000, `exit took ${ms} ms`);
  } finally {
    proxy.kill("SIGKILL");
  }
});

test("simulate reports a failure when nothing listens", async () => {
  const port = await freePort();
  const { code, stdout } = runCli(["simulate", "--host", "127.0.0.1", "--port", String(port)]);
  assert.equal(code, 1);
  assert.match(stdout, /FAILED: .*ECONNREFUSED/);
});

test("serve stops at start with a message naming a bad option", () => {
  const dir = mkdtempSync(join(tmpdir(), "opts-"));
  const file = join(dir, "options.json");
  writeFileSync(file, JSON.stringify({ log_level: "info", idle_timeout_seconds: "soon" }));
  const { code, stderr } = runCli(["serve", "--options", file, "--ports", "0"]);
  assert.equal(code, 2);
  assert.match(stderr, /option 'idle_timeout_seconds' must be of type integer/);
});

test("simulate stamps its upload with the wall clock of --timezone", async () => {
  const { wallClockStamp } = await import("../../src/tools/simulate.js");
  const instant = new Date("2026-07-01T10:00:00Z");
  assert.equal(wallClockStamp(instant, "Europe/Amsterdam"), "20260701120000");
  assert.equal(wallClockStamp(instant, "Pacific/Auckland"), "20260701220000");
  assert.equal(wallClockStamp(new Date("2026-01-01T00:00:00Z"), "UTC"), "20260101000000");
});
