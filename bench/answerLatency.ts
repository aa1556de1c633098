import { type DropReason, type LoadResult, type LoadSpec, noDrops, runLoad } from "./ecuLoad.js";
import { cpuMs } from "./procfs.js";
import { type LatencySummary, summarise } from "./stats.js";

/** One load shape from the issue: `concurrency` ECUs, `total` uploads in all. */
export interface Scenario {
  name: string;
  concurrency: number;
  total: number;
}

export interface Measured extends LatencySummary {
  dropped: number;
  drops: Record<DropReason, number>;
  /** Completed transactions per second while this server was under load. */
  perSecond: number;
  /** CPU time (user + system) the server process spent per upload, µs. */
  cpuUsPerUpload: number;
}

export interface ScenarioResult {
  name: string;
  concurrency: number;
  total: number;
  baseline: Measured;
  proxy: Measured;
  /** proxy ÷ baseline, per statistic. */
  ratio: { p50: number; p99: number; max: number; perSecond: number; cpu: number };
}

export interface Target {
  host: string;
  port: number;
  pid: number | undefined;
}

/** Results of several chunks of one server, gathered into one measurement. */
class Tally {
  private readonly latencies: number[] = [];
  private readonly drops = noDrops();
  private ok = 0;
  private wallMs = 0;
  private cpu = 0;

  add(result: LoadResult, cpuSpentMs: number): void {
    for (const v of result.latencies) this.latencies.push(v);
    for (const [k, n] of Object.entries(result.drops)) this.drops[k as DropReason] += n;
    this.ok += result.ok;
    this.wallMs += result.wallMs;
    this.cpu += cpuSpentMs;
  }

  result(): Measured {
    const uploads = this.ok + Object.values(this.drops).reduce((a, b) => a + b, 0);
    return {
      ...summarise(this.latencies),
      dropped: uploads - this.ok,
      drops: this.drops,
      perSecond: (this.ok / this.wallMs) * 1000,
      cpuUsPerUpload: (this.cpu * 1000) / uploads,
    };
  }
}

/**
 * `total` transactions of `scenario`'s shape against `target`, added to `tally` (none: a warm-up)
 * with the CPU time the target's process spent meanwhile.
 */
async function measureLoad(
  target: Target,
  scenario: Scenario,
  total: number,
  uploads: Pick<LoadSpec, "upload" | "answer" | "nextUpload">,
  tally?: Tally,
): Promise<void> {
  const before = cpuMs(target.pid);
  const result = await runLoad({
    host: target.host,
    port: target.port,
    concurrency: scenario.concurrency,
    total,
    timeoutMs: 10_000,
    ...uploads,
  });
  tally?.add(result, cpuMs(target.pid) - before);
}

/** Baseline and proxy take turns in this many chunks, so drift on a shared machine hits both. */
const CHUNKS = 4;

/**
 * Runs one scenario against the baseline and the proxy: a warm-up each (JIT, socket caches;
 * not counted), then alternating chunks — baseline, proxy, baseline, proxy, … — so a noisy
 * neighbour or a slow phase of the machine weighs on both sides alike.
 */
export async function runScenario(
  scenario: Scenario,
  baseline: Target,
  proxy: Target,
  upload: Buffer,
  answer: Buffer,
  warmup: number,
): Promise<ScenarioResult> {
  const load = (target: Target, total: number, tally?: Tally) =>
    measureLoad(target, scenario, total, { upload, answer }, tally);
  await load(baseline, warmup);
  await load(proxy, warmup);
  const b = new Tally();
  const p = new Tally();
  const chunk = Math.ceil(scenario.total / CHUNKS);
  for (let done = 0; done < scenario.total; done += chunk) {
    const n = Math.min(chunk, scenario.total - done);
    await load(baseline, n, b);
    await load(proxy, n, p);
  }
  const bm = b.result();
  const pm = p.result();
  return {
    name: scenario.name,
    concurrency: scenario.concurrency,
    total: scenario.total,
    baseline: bm,
    proxy: pm,
    ratio: {
      p50: pm.p50 / bm.p50,
      p99: pm.p99 / bm.p99,
      max: pm.max / bm.max,
      perSecond: pm.perSecond / bm.perSecond,
      cpu: pm.cpuUsPerUpload / bm.cpuUsPerUpload,
    },
  };
}

/**
 * The proxy alone (the baseline answers one fixed text, so it cannot take part): `scenario`'s
 * ECUs each send a new round every time — what ECUs really do — so every upload is a fresh
 * reading the proxy saves to its state file before publishing.
 */
export async function runProxyOnly(
  scenario: Scenario,
  proxy: Target,
  nextUpload: (ecu: number) => { upload: Buffer; answer: Buffer },
  warmup: number,
): Promise<Measured> {
  // `upload`/`answer` are unused: nextUpload gives each transaction its own.
  const uploads = { upload: Buffer.alloc(0), answer: Buffer.alloc(0), nextUpload };
  await measureLoad(proxy, scenario, warmup, uploads);
  const tally = new Tally();
  await measureLoad(proxy, scenario, scenario.total, uploads, tally);
  return tally.result();
}

/**
 * Two proxies under the same load of new rounds, taking turns in chunks as runScenario does
 * (a noisy phase of the machine weighs on both alike); each has its own rounds, so every upload
 * is new to the proxy that gets it.
 */
export async function runProxyPair(
  scenario: Scenario,
  a: Target,
  b: Target,
  next: { a: (ecu: number) => { upload: Buffer; answer: Buffer }; b: typeof next.a },
  warmup: number,
): Promise<{ a: Measured; b: Measured }> {
  const uploads = (nextUpload: typeof next.a) => ({
    upload: Buffer.alloc(0),
    answer: Buffer.alloc(0),
    nextUpload,
  });
  await measureLoad(a, scenario, warmup, uploads(next.a));
  await measureLoad(b, scenario, warmup, uploads(next.b));
  const ta = new Tally();
  const tb = new Tally();
  const chunk = Math.ceil(scenario.total / CHUNKS);
  for (let done = 0; done < scenario.total; done += chunk) {
    const n = Math.min(chunk, scenario.total - done);
    await measureLoad(a, scenario, n, uploads(next.a), ta);
    await measureLoad(b, scenario, n, uploads(next.b), tb);
  }
  return { a: ta.result(), b: tb.result() };
}
