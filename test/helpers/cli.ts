import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "src", "cli.ts");

/** Node's arguments before the CLI's own: the TypeScript entry point through tsx by default. */
const TSX_ENTRY = ["--import", "tsx", CLI];

/** Runs `ecu-proxy ARGS` as a separate process; `entry` names another program (the bundle). */
export function runCli(args: string[], input?: Buffer | string, entry: string[] = TSX_ENTRY) {
  const result = spawnSync(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  entry: string[] = TSX_ENTRY,
): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return Object.assign(child, { output: () => out });
}

export function exited(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve({ code: child.exitCode, ms: 0 });
    const timer = setTimeout(
      () => reject(new Error(`process still running after ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started });
    });
  });
}

/**
 * `startCli` under a file-descriptor limit (soft and hard), as a container with that default
 * runs it: prlimit execs the program, so the child's pid is the program's.
 */
export function startCliWithFdLimit(
  args: string[],
  nofile: number,
  env: NodeJS.ProcessEnv = {},
): ChildProcess & { output: () => string } {
  const child = spawn(
    "prlimit",
    [`--nofile=${nofile}:${nofile}`, "--", process.execPath, ...TSX_ENTRY, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return Object.assign(child, { output: () => out });
}
