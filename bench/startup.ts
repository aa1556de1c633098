import { setTimeout as sleep } from "node:timers/promises";
import { type ProxyOptions, startProxy, stopProcess } from "./processes.js";
import { rssMiB } from "./procfs.js";
import { median } from "./stats.js";

export interface StartupResult {
  runs: number;
  /** spawn → first successful TCP connect, ms: median and worst of `runs` cold starts. */
  listeningMsMedian: number;
  listeningMsMax: number;
  /** VmRSS once the process has settled after start, MiB (median of runs). */
  rssAfterStartMiB: number;
  /** Its private (anonymous) part, MiB. */
  anonAfterStartMiB: number;
}

/** How long a fresh process gets to finish its start-up work before its RSS is read. */
const SETTLE_MS = 500;

/** Cold-starts the real CLI `runs` times; each is stopped before the next. */
export async function measureStartup(
  dir: string,
  runs: number,
  options: ProxyOptions,
): Promise<StartupResult> {
  const listening: number[] = [];
  const rss: number[] = [];
  const anon: number[] = [];
  for (let i = 0; i < runs; i++) {
    const proxy = await startProxy(dir, `startup-${i}`, options);
    listening.push(proxy.listeningMs);
    await sleep(SETTLE_MS);
    rss.push(rssMiB(proxy.child.pid));
    anon.push(rssMiB(proxy.child.pid, "RssAnon"));
    await stopProcess(proxy.child);
  }
  return {
    runs,
    listeningMsMedian: median(listening),
    listeningMsMax: Math.max(...listening),
    rssAfterStartMiB: median(rss),
    anonAfterStartMiB: median(anon),
  };
}
