/** What the kernel says about a process the bench runs: its memory and CPU time (/proc). */
import { readFileSync } from "node:fs";

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
