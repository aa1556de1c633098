import assert from "node:assert/strict";
import { test } from "node:test";
import { addonRuntime, parseRuntimeEnv, proxyRuntime } from "../../bench/runtime.js";

// runtime.env's format (described in the file): KEY=VALUE, a value sh would not expand. Whether
// sh reads it the same way is test/addon/runScript.test.ts's part.

test("the shipped runtime.env parses: node flags and glibc's trim threshold", () => {
  const runtime = addonRuntime();
  assert.deepEqual(runtime.nodeFlags, ["--max-semi-space-size=4"]);
  assert.equal(runtime.env.MALLOC_TRIM_THRESHOLD_, "131072");
});

test("quoted values may hold spaces; a later line wins, as in sh", () => {
  const env = parseRuntimeEnv('A=1\nB="x y"\nA=2\nC=\nD=""\n');
  assert.deepEqual(env, { A: "2", B: "x y", C: "", D: "" });
});

test("any line outside the format is refused, not read differently from sh", () => {
  for (const line of [
    "export A=1",
    "A = 1",
    "A=x y",
    "A='x'",
    'A="$HOME"',
    "A=$(id)",
    "A=`id`",
    "A=~/x",
    "A=x;id",
    "A=x\\y",
    "A=1\r",
    "1A=x",
    "  A=1",
  ]) {
    assert.throws(() => parseRuntimeEnv(`${line}\n`), /not KEY=VALUE/, line);
  }
});

test("BENCH_PROXY_NODE_FLAGS replaces the flags only", (t) => {
  const saved = process.env.BENCH_PROXY_NODE_FLAGS;
  t.after(() => {
    if (saved === undefined) delete process.env.BENCH_PROXY_NODE_FLAGS;
    else process.env.BENCH_PROXY_NODE_FLAGS = saved;
  });
  process.env.BENCH_PROXY_NODE_FLAGS = " --max-semi-space-size=2  --jitless ";
  const runtime = proxyRuntime();
  assert.deepEqual(runtime.nodeFlags, ["--max-semi-space-size=2", "--jitless"]);
  assert.equal(runtime.env.MALLOC_TRIM_THRESHOLD_, "131072");
  process.env.BENCH_PROXY_NODE_FLAGS = "";
  assert.deepEqual(proxyRuntime().nodeFlags, []);
});
