/**
 * Every process the bench runs — the proxy, the baseline, mosquitto — and the temp dirs they
 * use: spawned, awaited until listening, stopped. What is spawned or created here is owned by
 * the running `withCleanup` body, which stops and removes it when the body settles; Ctrl-C, a
 * SIGTERM or an abrupt exit kill it at once. No handler is installed outside that body.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { proxyRuntime } from "./runtime.js";
import { ROOT } from "./uploads.js";

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once("exit", () => children.delete(child));
  // A spawn failure (ENOENT) must not crash the bench with an unhandled 'error' event.
  child.on("error", () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ecu-proxy-bench-"));
  tempDirs.add(dir);
  return dir;
}

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last resort when the bench dies abruptly: no child may be left listening. */
function killNow(): void {
  for (const child of children) child.kill("SIGKILL");
  removeTempDirs();
}

function onSignal(signal: NodeJS.Signals): void {
  killNow();
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/**
 * Runs `body`; when it settles (or throws), every child it spawned is stopped and every temp dir
 * removed. While it runs, an exit or a SIGINT/SIGTERM kills them at once; the handlers for that
 * are removed again afterwards.
 */
export async function withCleanup<T>(body: () => Promise<T>): Promise<T> {
  process.once("exit", killNow);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await body();
  } finally {
    await Promise.all([...children].map((c) => stopProcess(c)));
    removeTempDirs();
    process.off("exit", killNow);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** A port free right now on the host (the kernel's pick for port 0). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Polls until a TCP connect to the port succeeds; resolves with the ms since `since`
 * (a performance.now() stamp). Rejects after `timeoutMs` or when the process exits first.
 */
export async function waitForListening(
  child: ChildProcess,
  port: number,
  since: number,
  timeoutMs = 10_000,
  host = "127.0.0.1",
): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    if (await tryConnect(port, host)) return performance.now() - since;
    if (performance.now() - since > timeoutMs) {
      throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

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

/**
 * Starts the real CLI — `node dist/ecu-proxy.js serve` — on a free loopback port, with the node
 * flags and environment the add-on runs it with (runtime.ts). Its log goes to a file: writing it
 * is part of the proxy's cost, reading it must not be part of the bench's.
 */
export async function startProxy(
  dir: string,
  name: string,
  options: ProxyOptions = {},
  extraEnv: NodeJS.ProcessEnv = {},
  /** The proxy build to run: this repository's by default, another with `--against`. */
  program = join(ROOT, "dist", "ecu-proxy.js"),
): Promise<Started> {
  const port = await freePort();
  const optionsFile = join(dir, `${name}.options.json`);
  writeFileSync(optionsFile, JSON.stringify(options));
  const logFile = join(dir, `${name}.log`);
  const out = openSync(logFile, "a");
  const runtime = proxyRuntime();
  const args = [
    ...runtime.nodeFlags,
    program,
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
    env: { ...process.env, ...runtime.env, TZ: "UTC", LOG_FORMAT: "pretty", ...extraEnv },
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
