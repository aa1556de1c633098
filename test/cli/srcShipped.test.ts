/**
 * src/ holds what the add-on ships (issue 15): every module there is part of the bundle users
 * run (scripts/bundle.mjs, from src/cli.ts), or declares types only (esbuild drops those).
 * Test helpers belong in test/, the benchmark in bench/.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { build, transform } from "esbuild";
import { ROOT } from "../helpers/cli.js";

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith(".ts") ? [relative(ROOT, path)] : [];
  });
}

test("every module in src/ is in the bundle or declares types only", async () => {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/cli.ts"],
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    write: false,
    metafile: true,
    outfile: "bundle-inputs.js",
    logLevel: "silent",
  });
  const bundled = new Set(Object.keys(result.metafile.inputs));
  const unshipped: string[] = [];
  for (const file of tsFiles(join(ROOT, "src"))) {
    if (bundled.has(file)) continue;
    const js = await transform(readFileSync(join(ROOT, file), "utf8"), { loader: "ts" });
    if (js.code.trim() !== "") unshipped.push(file);
  }
  assert.deepEqual(unshipped, [], "not part of the program: move to test/ or bench/");
});
