import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
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

export type CliChild = ChildProcess & { output: () => string };

/** The child with everything it wrote to stdout and stderr, in order, as `output()`. */
function withOutput(child: ChildProcess): CliChild {
  let out = "";
  const add = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  return Object.assign(child, { output: () => out });
}

export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  entry: string[] = TSX_ENTRY,
): CliChild {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return withOutput(child);
}

/**
 * `ecu-proxy serve` on `port` with `options` (written to options.json in `optionsDir`), once it
 * says it is listening.
 */
export async function serveCli(
  options: Record<string, unknown>,
  dataDir: string,
  port: number,
  optionsDir = dataDir,
): Promise<CliChild> {
  const file = join(optionsDir, "options.json");
  writeFileSync(file, JSON.stringify(options));
  const child = startCli([
    "serve",
    "--options",
    file,
    "--data-dir",
    dataDir,
    "--ports",
    String(port),
  ]);
  const deadline = Date.now() + 15_000;
  while (!child.output().includes("listening")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the proxy did not start listening:\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return child;
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
): CliChild {
  const child = spawn(
    "prlimit",
    [`--nofile=${nofile}:${nofile}`, "--", process.execPath, ...TSX_ENTRY, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return withOutput(child);
}
