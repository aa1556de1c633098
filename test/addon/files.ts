import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** Repository root (= the add-on folder). */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export function readText(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

export function readYaml(path: string): Record<string, unknown> {
  return parse(readText(path)) as Record<string, unknown>;
}

/** Tracked plus untracked, not ignored files: what a commit of this tree would contain. */
export function repoFiles(): string[] {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
}
