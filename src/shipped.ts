import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A file or folder shipped with the program, found by walking up from this module: the same
 * code runs from src/ (tsx), from dist/ (tsc) and as the single-file bundle dist/ecu-proxy.js,
 * each at a different depth below the package root.
 */
export function shippedPath(relative: string): string {
  const here = fileURLToPath(import.meta.url);
  let dir = dirname(here);
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${relative} not found in any folder above ${here}`);
    dir = parent;
  }
}

/** The version in package.json; "unknown" when it cannot be read. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(shippedPath("package.json"), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}
