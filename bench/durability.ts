/**
 * What durable answers cost (issue 18): the proxy confirms a round only once it is in the
 * journal and fdatasynced. Measured here against the same proxy with ECU_PROXY_UNSAFE_NO_FSYNC=1
 * (the journal written, never synced) in the same run, on a tmpfs (/dev/shm, where a sync costs
 * nothing but the system call) and on the disk the temp dir lives on — at 1 and 50 ECUs, each
 * upload a new round. And that a round's cost does not grow with the devices kept: a proxy
 * keeping 16 ECUs × 100 inverters against an empty one, under the same small rounds.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Measured, runProxyPair, type Scenario, type Target } from "./answerLatency.js";
import { runLoad } from "./ecuLoad.js";
import { type Started, startProxy, stopProcess } from "./processes.js";
import { ecuTimestamp, generatedUpload, newRounds } from "./uploads.js";

export interface DurabilityRow {
  where: "tmpfs" | "disk";
  scenario: string;
  durable: Measured;
  noSync: Measured;
  /** durable ÷ no sync. */
  ratio: { p50: number; p99: number };
}

export interface DevicesKeptResult {
  scenario: string;
  empty: Measured;
  kept: Measured;
  /** kept ÷ empty. */
  ratio: { p50: number; p99: number; cpu: number };
}

export interface DurabilityResult {
  rows: DurabilityRow[];
  devicesKept: DevicesKeptResult;
}

/** Enough ECUs to be tracked in every scenario (max_ecus defaults to 16). */
const OPTIONS = { max_ecus: 1000, log_level: "warning" };

const target = (s: Started): Target => ({ host: "127.0.0.1", port: s.port, pid: s.child.pid });

async function pair(dir: string, envB: NodeJS.ProcessEnv): Promise<{ a: Started; b: Started }> {
  const a = await startProxy(dir, "durable", OPTIONS);
  const b = await startProxy(dir, "other", OPTIONS, envB);
  return { a, b };
}

/** A temp dir on the tmpfs, where there is one. */
function tmpfsDir(): string | undefined {
  if (!existsSync("/dev/shm")) return undefined;
  try {
    return mkdtempSync(join("/dev/shm", "ecu-proxy-bench-"));
  } catch {
    return undefined;
  }
}

export async function measureDurability(
  diskDir: string,
  scenarios: Scenario[],
  warmup: number,
  progress: (text: string) => void,
): Promise<DurabilityResult> {
  const rows: DurabilityRow[] = [];
  const shm = tmpfsDir();
  const places: Array<{ where: DurabilityRow["where"]; dir: string }> = [
    ...(shm ? [{ where: "tmpfs" as const, dir: shm }] : []),
    { where: "disk", dir: mkdtempSync(join(diskDir, "durability-")) },
  ];
  let firstEcu = 1000;
  try {
    for (const { where, dir } of places) {
      const { a, b } = await pair(dir, { ECU_PROXY_UNSAFE_NO_FSYNC: "1" });
      try {
        for (const scenario of scenarios) {
          progress(`durable answers on ${where}: ${scenario.name} × ${scenario.total}`);
          const next = { a: newRounds(firstEcu), b: newRounds(firstEcu + 500) };
          firstEcu += 1000;
          const m = await runProxyPair(scenario, target(a), target(b), next, warmup);
          rows.push({
            where,
            scenario: scenario.name,
            durable: m.a,
            noSync: m.b,
            ratio: { p50: m.a.p50 / m.b.p50, p99: m.a.p99 / m.b.p99 },
          });
        }
      } finally {
        await Promise.all([stopProcess(a.child), stopProcess(b.child)]);
      }
    }
  } finally {
    if (shm) rmSync(shm, { recursive: true, force: true });
  }

  const fifty = scenarios.find((s) => s.concurrency === 50) ?? (scenarios[0] as Scenario);
  progress(`a round's cost with 16 ECUs × 100 inverters kept: ${fifty.name} × ${fifty.total}`);
  const dir = mkdtempSync(join(diskDir, "kept-"));
  const { a: empty, b: kept } = await pair(dir, {});
  try {
    // 16 ECUs of 100 inverters each, now kept by the second proxy (and in its every snapshot).
    for (let e = 0; e < 16; e++) {
      const big = generatedUpload(5000 + e, 100, ecuTimestamp(new Date(Date.UTC(2024, 1, 7, 5))));
      await runLoad({
        host: "127.0.0.1",
        port: kept.port,
        concurrency: 1,
        total: 1,
        timeoutMs: 10_000,
        upload: big.wire,
        answer: big.answer,
      });
    }
    const next = { a: newRounds(firstEcu), b: newRounds(firstEcu + 500) };
    const m = await runProxyPair(fifty, target(empty), target(kept), next, warmup);
    return {
      rows,
      devicesKept: {
        scenario: fifty.name,
        empty: m.a,
        kept: m.b,
        ratio: {
          p50: m.b.p50 / m.a.p50,
          p99: m.b.p99 / m.a.p99,
          cpu: m.b.cpuUsPerUpload / m.a.cpuUsPerUpload,
        },
      },
    };
  } finally {
    await Promise.all([stopProcess(empty.child), stopProcess(kept.child)]);
  }
}
