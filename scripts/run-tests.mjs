#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (Node 20's --test takes no globs).
// Extra arguments narrow the run: `node scripts/run-tests.mjs protocol` runs files whose path
// contains "protocol".
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === "fixtures" || name === "node_modules") continue;
    if (statSync(path).isDirectory()) out.push(...find(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find("test")
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
mkdirSync("test-artifacts", { recursive: true });
const tapFile = join("test-artifacts", "tests.tap");
const result = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: "inherit", env: { ...process.env, NODE_NO_WARNINGS: "1" } },
);
// A plain closing line that any log reader understands, taken from the TAP summary.
const tap = readFileSync(tapFile, "utf8");
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
console.log(
  `\ntests: ${count("pass")} passed, ${count("fail")} failed, ${count("skipped")} skipped`,
);
process.exit(result.status ?? 1);
