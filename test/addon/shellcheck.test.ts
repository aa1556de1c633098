import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, repoFiles } from "./files.js";

/**
 * Every shell script in the tree: *.sh, .ci/run, and anything under rootfs/ or with a sh shebang.
 * That includes files scripts source (*.env, e.g. rootfs/etc/ecu-proxy/runtime.env for run.sh).
 */
function shellScripts(): string[] {
  return repoFiles().filter((f) => {
    if (f.endsWith(".sh") || f === ".ci/run" || f.startsWith("rootfs/")) return true;
    if (f.startsWith("test/fixtures/") || /\.(ts|mjs|js|json|md|png|yaml)$/.test(f)) return false;
    const head = readFileSync(join(ROOT, f), "utf8").slice(0, 80);
    return /^#!.*\b(ba)?sh\b/.test(head) || /^#!.*with-contenv/.test(head);
  });
}

const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

test("the add-on's scripts are found", () => {
  const scripts = shellScripts();
  for (const f of [
    "run.sh",
    ".ci/run",
    "scripts/standin-base.sh",
    "rootfs/etc/services.d/ecu-proxy/run",
    "rootfs/etc/services.d/ecu-proxy/finish",
    "rootfs/etc/ecu-proxy/runtime.env",
  ]) {
    assert.ok(scripts.includes(f), f);
  }
});

/** Sourced, never run: these need no executable bit. */
const sourced = (f: string) => f.endsWith(".env");

test("scripts are executable and have LF line endings", () => {
  for (const f of shellScripts()) {
    const path = join(ROOT, f);
    if (!sourced(f)) assert.ok((statSync(path).mode & 0o111) !== 0, `${f} is not executable`);
    assert.ok(!readFileSync(path, "utf8").includes("\r"), `${f} has CR line endings`);
  }
  // What git records matters for the Supervisor's clone, not the working-tree mode.
  const executables = shellScripts().filter((f) => !sourced(f));
  const staged = spawnSync("git", ["ls-files", "-s", "--", ...executables], {
    cwd: ROOT,
    encoding: "utf8",
  }).stdout;
  for (const line of staged.split("\n").filter(Boolean)) {
    assert.match(line, /^100755 /, `not committed executable: ${line}`);
  }
});

test("shellcheck finds nothing", {
  skip: hasShellcheck ? false : "shellcheck is not installed (CI installs it)",
}, () => {
  const r = spawnSync("shellcheck", ["-f", "gcc", ...shellScripts()], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
