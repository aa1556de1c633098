/** How the bench runs the proxy process: as the add-on's run.sh runs it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./uploads.js";

export interface ProxyRuntime {
  /** Environment for the proxy process on top of the bench's own. */
  env: Record<string, string>;
  /** Node flags before the program. */
  nodeFlags: string[];
}

/** run.sh, the add-on's entry point: the bench runs the proxy as it does. */
function runSh(): string {
  return readFileSync(join(ROOT, "run.sh"), "utf8");
}

/**
 * Node flags and environment for the proxy process: those the add-on runs it with (NODE_FLAGS
 * and the exports in run.sh), but the flags of BENCH_PROXY_NODE_FLAGS when that is set (empty
 * for none), to see what a runtime setting changes.
 */
export function proxyRuntime(): ProxyRuntime {
  const override = process.env.BENCH_PROXY_NODE_FLAGS;
  const flags = override ?? /^NODE_FLAGS="([^"]*)"$/m.exec(runSh())?.[1] ?? "";
  const env: Record<string, string> = {};
  for (const m of runSh().matchAll(/^export (MALLOC_\w+)=(\S+)$/gm)) {
    if (m[1] && m[2]) env[m[1]] = m[2];
  }
  return { env, nodeFlags: flags.split(/\s+/).filter(Boolean) };
}

/** The runtime for the report: `NAME=value` entries, then node flags. */
export function describeRuntime(runtime: ProxyRuntime = proxyRuntime()): string[] {
  return [...Object.entries(runtime.env).map(([k, v]) => `${k}=${v}`), ...runtime.nodeFlags];
}
