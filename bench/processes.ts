import type { ChildProcess } from "node:child_process";
import { openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, spawnTracked, waitForListening } from "./procs.js";
import { ROOT } from "./uploads.js";

export interface Started {
  child: ChildProcess;
  port: number;
  /** spawn → first successful TCP connect, ms. */
  listeningMs: number;
  /** Where the process's stdout/stderr go (its log). */
  logFile: string;
}

/** Options for `ecu-proxy serve --options`, in the add-on's options.json format. */
export type ProxyOptions = Record<string, unknown>;

/** run.sh, the add-on's entry point: the bench runs the proxy as it does. */
function runSh(): string {
  return readFileSync(join(ROOT, "run.sh"), "utf8");
}

/**
 * Node flags for the proxy process: those the add-on runs it with (NODE_FLAGS in run.sh), unless
 * BENCH_PROXY_NODE_FLAGS is set (empty for none) to see what a runtime setting changes.
 */
function proxyNodeFlags(): string[] {
  const override = process.env.BENCH_PROXY_NODE_FLAGS;
  if (override !== undefined) return override.split(/\s+/).filter(Boolean);
  return (/^NODE_FLAGS="([^"]*)"$/m.exec(runSh())?.[1] ?? "").split(/\s+/).filter(Boolean);
}

/** The environment run.sh exports for node (glibc malloc settings). */
function proxyEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of runSh().matchAll(/^export (MALLOC_\w+)=(\S+)$/gm)) {
    if (m[1] && m[2]) env[m[1]] = m[2];
  }
  return env;
}

/** What startProxy runs the proxy with, for the report: `NAME=value` entries, then node flags. */
export function proxyRuntime(): string[] {
  return [...Object.entries(proxyEnv()).map(([k, v]) => `${k}=${v}`), ...proxyNodeFlags()];
}

/**
 * Starts the real CLI — `node dist/ecu-proxy.js serve` — on a free loopback port. Its log goes to a
 * file: writing it is part of the proxy's cost, reading it must not be part of the bench's.
 */
export async function startProxy(
  dir: string,
  name: string,
  options: ProxyOptions = {},
): Promise<Started> {
  const port = await freePort();
  const optionsFile = join(dir, `${name}.options.json`);
  writeFileSync(optionsFile, JSON.stringify(options));
  const logFile = join(dir, `${name}.log`);
  const out = openSync(logFile, "a");
  const args = [
    ...proxyNodeFlags(),
    join(ROOT, "dist", "ecu-proxy.js"),
    "serve",
    "--ports",
    String(port),
    "--host",
    "127.0.0.1",
    "--data-dir",
    join(dir, `${name}-data`),
    "--options",
    optionsFile,
  ];
  const since = performance.now();
  const child = spawnTracked(process.execPath, args, {
    cwd: dir,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...proxyEnv(), TZ: "UTC", LOG_FORMAT: "pretty" },
  });
  const listeningMs = await waitForListening(child, port, since);
  return { child, port, listeningMs, logFile };
}

/**
 * Starts the baseline answerer (bench/baseline.ts, through tsx's loader as the bench itself
 * runs) on a free loopback port.
 */
export async function startBaseline(dir: string, answer: Buffer): Promise<Started> {
  const port = await freePort();
  const logFile = join(dir, "baseline.log");
  const out = openSync(logFile, "a");
  const since = performance.now();
  const child = spawnTracked(
    process.execPath,
    [
      "--import",
      import.meta.resolve("tsx"),
      join(ROOT, "bench", "baseline.ts"),
      String(port),
      answer.toString("latin1"),
    ],
    { cwd: dir, stdio: ["ignore", out, out] },
  );
  const listeningMs = await waitForListening(child, port, since);
  return { child, port, listeningMs, logFile };
}
