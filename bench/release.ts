/**
 * `--against DIST`: this build against another build of the proxy (a release's
 * dist/ecu-proxy.js, e.g. 0.3.0 built in a worktree), in the same run, under the same load and
 * taking turns in chunks. Issue 18's goal is stated against the release before durable answers:
 * p99 at 50 ECUs within 1.5× of it. Two loads: the same captured upload again and again (a
 * resend: answered without a write) and a new round in every upload (this build journals and
 * syncs each one before it answers; the release answered first and saved later).
 */
import { existsSync } from "node:fs";
import {
  type Measured,
  runProxyPair,
  runScenario,
  type Scenario,
  type Target,
} from "./answerLatency.js";
import { type Started, startProxy, stopProcess } from "./processes.js";
import { newRounds, REAL_UPLOAD_ANSWER, realUploadWire } from "./uploads.js";

export interface ReleaseRow {
  load: "same capture" | "new rounds";
  scenario: string;
  release: Measured;
  current: Measured;
  /** this build ÷ the release. */
  ratio: { p50: number; p99: number; cpu: number };
}

export interface ReleaseResult {
  program: string;
  rows: ReleaseRow[];
}

const OPTIONS = { max_ecus: 1000, log_level: "warning" };
const target = (s: Started): Target => ({ host: "127.0.0.1", port: s.port, pid: s.child.pid });
const ratio = (current: Measured, release: Measured) => ({
  p50: current.p50 / release.p50,
  p99: current.p99 / release.p99,
  cpu: current.cpuUsPerUpload / release.cpuUsPerUpload,
});

export async function measureAgainstRelease(
  dir: string,
  program: string,
  scenarios: Scenario[],
  warmup: number,
  progress: (text: string) => void,
): Promise<ReleaseResult> {
  if (!existsSync(program)) throw new Error(`--against ${program}: no such file (build it first)`);
  const release = await startProxy(dir, "release", OPTIONS, {}, program);
  const current = await startProxy(dir, "current", OPTIONS);
  const rows: ReleaseRow[] = [];
  let firstEcu = 20_000;
  try {
    for (const scenario of scenarios) {
      progress(`against ${program}, same capture: ${scenario.name} × ${scenario.total}`);
      const same = await runScenario(
        scenario,
        target(release),
        target(current),
        realUploadWire(),
        REAL_UPLOAD_ANSWER,
        warmup,
      );
      rows.push({
        load: "same capture",
        scenario: scenario.name,
        release: same.baseline,
        current: same.proxy,
        ratio: ratio(same.proxy, same.baseline),
      });
      progress(`against ${program}, new rounds: ${scenario.name} × ${scenario.total}`);
      const next = { a: newRounds(firstEcu), b: newRounds(firstEcu + 500) };
      firstEcu += 1000;
      const fresh = await runProxyPair(scenario, target(release), target(current), next, warmup);
      rows.push({
        load: "new rounds",
        scenario: scenario.name,
        release: fresh.a,
        current: fresh.b,
        ratio: ratio(fresh.b, fresh.a),
      });
    }
  } finally {
    await Promise.all([stopProcess(release.child), stopProcess(current.child)]);
  }
  return { program, rows };
}
