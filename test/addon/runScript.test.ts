import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ROOT } from "./files.js";

// run.sh and finish are the add-on's whole wrapper; here they run with a fake `node` on PATH
// that records its arguments (the real ones run in the container smoke test).
const dir = mkdtempSync(join(tmpdir(), "ecu-proxy-run-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const argsFile = join(dir, "args");
writeFileSync(
  join(dir, "node"),
  `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\necho "$MALLOC_TRIM_THRESHOLD_" > "${argsFile}.env"\nexit 7\n`,
);
chmodSync(join(dir, "node"), 0o755);

function runSh(env: Record<string, string>) {
  rmSync(argsFile, { force: true });
  const r = spawnSync("sh", [join(ROOT, "run.sh")], {
    env: { PATH: `${dir}:${process.env.PATH}`, ...env },
    encoding: "utf8",
  });
  return {
    status: r.status,
    args: readFileSync(argsFile, "utf8").trim().split("\n"),
    trimThreshold: readFileSync(`${argsFile}.env`, "utf8").trim(),
  };
}

test("run.sh execs node on the add-on's options and data dir", () => {
  const r = runSh({});
  assert.deepEqual(r.args, [
    "--max-semi-space-size=4",
    "/app/dist/ecu-proxy.js",
    "serve",
    "--options",
    "/data/options.json",
    "--data-dir",
    "/data",
  ]);
  assert.equal(r.status, 7, "node's exit code is the script's (exec, no wrapper process)");
  assert.equal(r.trimThreshold, "131072", "glibc's trim threshold reaches node");
});

test("run.sh passes ECU_PROXY_PORTS (smoke test only) as --ports", () => {
  const r = runSh({ ECU_PROXY_PORTS: "18995,18996,18997" });
  assert.deepEqual(r.args.slice(-2), ["--ports", "18995,18996,18997"]);
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
