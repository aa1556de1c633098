import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Child processes and temp dirs the bench owns. Everything registered here is killed/removed
 * when the bench ends — normally, on an exception, or on Ctrl-C — so no proxy, baseline or
 * broker outlives a run.
 */
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

export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last resort when the bench dies abruptly: no child may be left listening. */
function killNow(): void {
  for (const child of children) child.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
process.once("exit", killNow);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killNow();
    process.exit(130);
  });
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

/**
 * Resident memory of a process in MiB, from /proc/<pid>/status (kB): VmRSS (the target's
 * figure), VmHWM (its peak), or RssAnon (the private part — VmRSS also counts the pages of the
 * ~100 MB node binary that the process has touched, shared with every other node process).
 */
export function rssMiB(
  pid: number | undefined,
  field: "VmRSS" | "VmHWM" | "RssAnon" = "VmRSS",
): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match?.[1] ? Number(match[1]) / 1024 : Number.NaN;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / USER_HZ;
}
