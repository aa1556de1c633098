/**
 * How the bench runs the proxy process: as the add-on does. rootfs/etc/ecu-proxy/runtime.env
 * holds node's flags and environment; run.sh sources it, and this reads it as the KEY=VALUE
 * lines its header describes — never by looking into run.sh.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./uploads.js";

/** The repository's copy of what the image has at /etc/ecu-proxy/runtime.env. */
export const RUNTIME_ENV = join(ROOT, "rootfs", "etc", "ecu-proxy", "runtime.env");

/** Letters, digits and _ . , : / = + @ % - (spaces too in double quotes): nothing sh expands. */
const LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(?:([\w.,:/=+@%-]*)|"([\w.,:/=+@% -]*)")$/;

/**
 * The KEY=VALUE lines of a runtime.env text, as sh's `set -a; . FILE` sets them. Blank and `#`
 * lines are skipped; any other line throws, rather than being read differently from sh.
 */
export function parseRuntimeEnv(text: string, file = "runtime.env"): Record<string, string> {
  const env: Record<string, string> = {};
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const m = LINE.exec(line);
    if (!m?.[1]) {
      throw new Error(`${file}:${i + 1}: not KEY=VALUE in runtime.env's format: ${line}`);
    }
    env[m[1]] = m[2] ?? m[3] ?? "";
  });
  return env;
}

export interface ProxyRuntime {
  /** Environment for the proxy process on top of the bench's own: every key, as run.sh exports. */
  env: Record<string, string>;
  /** Node flags before the program: NODE_FLAGS split on spaces, as run.sh passes them. */
  nodeFlags: string[];
}

/** The flags and environment runtime.env gives node. */
export function runtimeOf(env: Record<string, string>): ProxyRuntime {
  return { env, nodeFlags: (env.NODE_FLAGS ?? "").split(" ").filter(Boolean) };
}

/** The flags and environment the add-on runs node with (the repository's runtime.env). */
export function addonRuntime(): ProxyRuntime {
  return runtimeOf(parseRuntimeEnv(readFileSync(RUNTIME_ENV, "utf8"), RUNTIME_ENV));
}

/**
 * What the bench runs the proxy with: runtime.env's flags and environment, but the flags of
 * BENCH_PROXY_NODE_FLAGS when that is set (empty for none), to see what another setting changes.
 */
export function proxyRuntime(): ProxyRuntime {
  const runtime = addonRuntime();
  const override = process.env.BENCH_PROXY_NODE_FLAGS;
  if (override === undefined) return runtime;
  return { ...runtime, nodeFlags: override.split(/\s+/).filter(Boolean) };
}

/** The runtime for the report: the environment as `NAME=value` (NODE_FLAGS aside), then flags. */
export function describeRuntime(runtime: ProxyRuntime = proxyRuntime()): string[] {
  return [
    ...Object.entries(runtime.env)
      .filter(([k]) => k !== "NODE_FLAGS")
      .map(([k, v]) => `${k}=${v}`),
    ...runtime.nodeFlags,
  ];
}
