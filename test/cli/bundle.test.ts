/**
 * The file users run is the bundle, dist/ecu-proxy.js (scripts/bundle.mjs), not src/cli.ts: it
 * is built here and run as the add-on runs it, then answers a real upload, serves its status
 * page from the shipped files, decodes a capture and reports the package version.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { addonRuntime } from "../../bench/runtime.js";
// @ts-expect-error -- a plain ES module script without type declarations
import { BUNDLE, bundle } from "../../scripts/bundle.mjs";
import { exited, ROOT, runCli, startCli } from "../helpers/cli.js";
import { SAMPLES, UPLOAD_ANSWER, UPLOAD_FILE, uploadWire } from "../helpers/fixtures.js";
import { waitFor } from "../helpers/logs.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";

before(async () => {
  await bundle();
});

test("the bundle serves: upload answered, status page shipped, clean stop", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bundle-"));
  writeFileSync(join(dir, "options.json"), JSON.stringify({ log_level: "info" }));
  const [port, statusPort] = [await freePort(), await freePort()];
  // Node's flags and environment as run.sh gives them (rootfs/etc/ecu-proxy/runtime.env).
  const runtime = addonRuntime();
  const proxy = startCli(
    [
      ...["serve", "--options", join(dir, "options.json"), "--data-dir", join(dir, "data")],
      ...["--ports", String(port), "--host", "127.0.0.1", "--status-port", String(statusPort)],
    ],
    runtime.env,
    [...runtime.nodeFlags, BUNDLE],
  );
  try {
    await waitFor(() => proxy.output().includes("listening for ECUs"), "the bundle to listen");
    const answer = await ecuExchange(port, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
    assert.equal(answer.toString("latin1"), UPLOAD_ANSWER);
    const page = await fetch(`http://127.0.0.1:${statusPort}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const version = (
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
    const status = (await (await fetch(`http://127.0.0.1:${statusPort}/api/status`)).json()) as {
      version?: string;
    };
    assert.equal(status.version, version);
  } finally {
    proxy.kill("SIGTERM");
  }
  const { code } = await exited(proxy, 5000);
  assert.doesNotMatch(proxy.output(), /ERROR|FATAL/);
  assert.equal(code, 0, proxy.output());
});

test("the bundle decodes a capture", () => {
  const result = runCli(["decode", join(SAMPLES, UPLOAD_FILE)], undefined, [BUNDLE]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /216000064136/);
});

test("every command of the bundle prints its usage for --help and -h, exit 0", () => {
  // The commands main() dispatches, read from the source so a new one cannot be forgotten.
  const source = readFileSync(join(ROOT, "src/cli.ts"), "utf8");
  const commands = [...source.matchAll(/^ {4}case "([a-z]+)":/gm)].map((m) => m[1] ?? "");
  assert.deepEqual(commands.sort(), ["decode", "help", "serve", "simulate"]);
  for (const command of commands) {
    for (const flag of ["--help", "-h"]) {
      const result = runCli([command, flag], undefined, [BUNDLE]);
      assert.equal(result.code, 0, `${command} ${flag}: ${result.stderr}`);
      assert.equal(result.stderr, "", `${command} ${flag}`);
      assert.match(result.stdout, new RegExp(`^usage: ecu-proxy ${command}\\b`), command);
    }
  }
  // The flag counts among other arguments too, and `help COMMAND` says the same.
  const late = runCli(["simulate", "--host", "127.0.0.1", "--help"], undefined, [BUNDLE]);
  assert.equal(late.code, 0, late.stderr);
  const viaHelp = runCli(["help", "simulate"], undefined, [BUNDLE]);
  assert.equal(viaHelp.stdout, late.stdout);
  assert.match(late.stdout, /--timezone ZONE/);
  for (const top of [["--help"], ["-h"], ["help"]]) {
    const result = runCli(top, undefined, [BUNDLE]);
    assert.equal(result.code, 0, top.join(" "));
    assert.match(result.stdout, /ecu-proxy <command> --help/);
  }
  const unknown = runCli(["simulate", "--bogus"], undefined, [BUNDLE]);
  assert.notEqual(unknown.code, 0, "an unknown option still fails");
});
