/**
 * No module in src/ is over 300 lines (issue 15): a reviewer who has never seen the code finds
 * each job from the file names alone, one job per file.
 *
 * The status page's browser script is held to the limit too (app.js and chart.js).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { test } from "node:test";
import { ROOT } from "../helpers/cli.js";

const MAX_LINES = 300;
const EXEMPT: string[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.[jt]s$/.test(e.name) ? [relative(ROOT, path).split(sep).join("/")] : [];
  });
}

/** Newlines, plus an unterminated last line. */
function lineCount(text: string): number {
  const newlines = text.split("\n").length - 1;
  return text === "" || text.endsWith("\n") ? newlines : newlines + 1;
}

test(`no .ts or .js file in src/ is over ${MAX_LINES} lines`, () => {
  const files = sourceFiles(join(ROOT, "src"));
  assert.ok(files.includes("src/cli.ts"), "src/ was walked");
  const over = files
    .filter((file) => !EXEMPT.some((e) => (e.endsWith("/") ? file.startsWith(e) : file === e)))
    .map((file) => ({ file, lines: lineCount(readFileSync(join(ROOT, file), "utf8")) }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ file, lines }) => `${file}: ${lines} lines`);
  assert.deepEqual(over, [], `split these by job (at most ${MAX_LINES} lines each)`);
});

test("the size check counts lines as wc -l does", () => {
  assert.equal(lineCount(""), 0);
  assert.equal(lineCount("a\n"), 1);
  assert.equal(lineCount("a\nb"), 2);
  assert.equal(lineCount(`${"x\n".repeat(MAX_LINES + 1)}`), MAX_LINES + 1);
});
