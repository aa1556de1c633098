import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { addonRuntime, parseRuntimeEnv, RUNTIME_ENV, runtimeOf } from "../../bench/runtime.js";
import { ROOT } from "./files.js";

// run.sh and finish are the add-on's whole wrapper; here they run with a fake `node` on PATH
// that records its arguments and environment (the real ones run in the container smoke test).
const dir = mkdtempSync(join(tmpdir(), "ecu-proxy-run-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const argsFile = join(dir, "args");
writeFileSync(
  join(dir, "node"),
  `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\nenv > "${argsFile}.env"\nexit 7\n`,
);
chmodSync(join(dir, "node"), 0o755);

/** run.sh with the repository's runtime.env (the image has it at /etc/ecu-proxy/runtime.env). */
function runSh(env: Record<string, string>, runtimeEnv = RUNTIME_ENV) {
  rmSync(argsFile, { force: true });
  const r = spawnSync("sh", [join(ROOT, "run.sh")], {
    env: { PATH: `${dir}:${process.env.PATH}`, ECU_PROXY_RUNTIME_ENV: runtimeEnv, ...env },
    encoding: "utf8",
  });
  const nodeEnv = new Map<string, string>();
  for (const line of readFileSync(`${argsFile}.env`, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) nodeEnv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return {
    status: r.status,
    args: readFileSync(argsFile, "utf8").trim().split("\n"),
    env: nodeEnv,
  };
}

const PROGRAM = ["/app/dist/ecu-proxy.js", "serve", "--options", "/data/options.json"];

test("run.sh execs node on the add-on's options and data dir, with runtime.env's settings", () => {
  const r = runSh({});
  assert.deepEqual(r.args, ["--max-semi-space-size=4", ...PROGRAM, "--data-dir", "/data"]);
  assert.equal(r.status, 7, "node's exit code is the script's (exec, no wrapper process)");
  assert.equal(
    r.env.get("MALLOC_TRIM_THRESHOLD_"),
    "131072",
    "glibc's trim threshold reaches node",
  );
});

test("run.sh passes ECU_PROXY_PORTS (smoke test only) as --ports", () => {
  const r = runSh({ ECU_PROXY_PORTS: "18995,18996,18997" });
  assert.deepEqual(r.args.slice(-2), ["--ports", "18995,18996,18997"]);
});

test("run.sh and the benchmark read runtime.env alike", () => {
  const file = join(dir, "runtime.env");
  const text = [
    "# a comment",
    "",
    'NODE_FLAGS="--max-semi-space-size=2  --stack-size=900"',
    "MALLOC_ARENA_MAX=2",
    "  # an indented comment",
    "MALLOC_TRIM_THRESHOLD_=65536",
    "",
  ].join("\n");
  writeFileSync(file, text);
  const runtime = runtimeOf(parseRuntimeEnv(text));
  assert.deepEqual(runtime.nodeFlags, ["--max-semi-space-size=2", "--stack-size=900"]);
  const r = runSh({}, file);
  assert.deepEqual(r.args, [...runtime.nodeFlags, ...PROGRAM, "--data-dir", "/data"]);
  for (const [key, value] of Object.entries(runtime.env)) assert.equal(r.env.get(key), value, key);
  // And the shipped file: what the bench runs the proxy with is what the add-on runs.
  const shipped = addonRuntime();
  const real = runSh({});
  assert.deepEqual(real.args.slice(0, shipped.nodeFlags.length), shipped.nodeFlags);
  for (const [key, value] of Object.entries(shipped.env)) {
    assert.equal(real.env.get(key), value, key);
  }
});

test("finish leaves a clean exit and a stop (SIGTERM) alone", () => {
  const finish = join(ROOT, "rootfs/etc/services.d/ecu-proxy/finish");
  for (const args of [
    ["0", "0"],
    ["256", "15"],
  ]) {
    const r = spawnSync("sh", [finish, ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, `finish ${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, "", "no halt attempted");
  }
});
