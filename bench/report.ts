import type { Measured, ScenarioResult } from "./answerLatency.js";
import type { ThroughputResult } from "./decodeThroughput.js";
import type { DurabilityResult } from "./durability.js";
import type { Machine } from "./machine.js";
import type { MemoryResult } from "./memory.js";
import type { MqttLatencyResult } from "./mqttLatency.js";
import type { ReleaseResult } from "./release.js";
import type { StartupResult } from "./startup.js";
import { round } from "./stats.js";
import type { TargetCheck } from "./targets.js";

export interface BenchResults {
  mode: "full" | "quick";
  date: string;
  machine: Machine;
  /** Environment and node flags the proxy ran with: runtime.env's (flags: BENCH_PROXY_NODE_FLAGS). */
  proxyRuntime: string[];
  answers: ScenarioResult[];
  /** The proxy alone with a new round in every upload (each one saved to the state file). */
  freshRounds?: { name: string; total: number; proxy: Measured };
  /** Durable answers against the same proxy without fsync, and with many devices kept. */
  durability?: DurabilityResult;
  /** `--against`: this build against another build (a release) in the same run. */
  release?: ReleaseResult;
  decode: ThroughputResult[];
  mqtt: MqttLatencyResult | { skipped: string };
  memory: MemoryResult | { skipped: string };
  startup: StartupResult;
  targets: TargetCheck[];
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  // The separator row as biome formats Markdown, so the output pastes into the README as is.
  const rule = `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : `${"-".repeat(w - 1)}:`)).join(" | ")} |`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

const ms = (v: number) => (Number.isFinite(v) ? round(v, 2).toFixed(2) : "–");
const x = (v: number) => (Number.isFinite(v) ? `${round(v, 2).toFixed(2)}×` : "–");
const int = (v: number) => Math.round(v).toLocaleString("en-US");
const mib = (v: number) => `${round(v, 1).toFixed(1)}`;

function releaseReport(r: ReleaseResult | undefined): string[] {
  if (!r) return [];
  return [
    `This build against ${r.program}, same run, taking turns; × = this build ÷ that one:`,
    "",
    table(
      [
        "load",
        "scenario",
        "that p50",
        "that p99",
        "this p50",
        "this p99",
        "p50 ×",
        "p99 ×",
        "CPU ×",
        "dropped",
      ],
      r.rows.map((row) => [
        row.load,
        row.scenario,
        ms(row.release.p50),
        ms(row.release.p99),
        ms(row.current.p50),
        ms(row.current.p99),
        x(row.ratio.p50),
        x(row.ratio.p99),
        x(row.ratio.cpu),
        `${row.current.dropped} (that ${row.release.dropped})`,
      ]),
    ),
    "",
  ];
}

function durabilityReport(d: DurabilityResult | undefined): string[] {
  if (!d) return [];
  const k = d.devicesKept;
  return [
    "Durable answers (every upload a new round, confirmed once journaled and fdatasynced) against the same proxy with ECU_PROXY_UNSAFE_NO_FSYNC=1, in the same run; × = durable ÷ no sync:",
    "",
    table(
      [
        "where",
        "scenario",
        "durable p50",
        "durable p99",
        "no-sync p50",
        "no-sync p99",
        "p50 ×",
        "p99 ×",
        "dropped",
      ],
      d.rows.map((row) => [
        row.where,
        row.scenario,
        ms(row.durable.p50),
        ms(row.durable.p99),
        ms(row.noSync.p50),
        ms(row.noSync.p99),
        x(row.ratio.p50),
        x(row.ratio.p99),
        `${row.durable.dropped} (no sync ${row.noSync.dropped})`,
      ]),
    ),
    "",
    `A round's cost with 16 ECUs × 100 inverters kept, against an empty proxy (${k.scenario}, disk, durable): p50 ${ms(k.kept.p50)} vs ${ms(k.empty.p50)} ms (${x(k.ratio.p50)}), p99 ${ms(k.kept.p99)} vs ${ms(k.empty.p99)} ms (${x(k.ratio.p99)}), CPU ${int(k.kept.cpuUsPerUpload)} vs ${int(k.empty.cpuUsPerUpload)} µs/upload (${x(k.ratio.cpu)})`,
    "",
  ];
}

/** The human-readable report: Markdown tables, so it can be pasted into CONTRIBUTING.md as is. */
export function formatReport(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}, load average ${m.loadAverage} at start — ${r.mode} run, ${r.date}; proxy runtime: ${r.proxyRuntime.join(" ") || "no flags"}`,
    "",
    "ECU answer latency (connect → complete answer, ms); × = proxy ÷ baseline; CPU = server process time per upload:",
    "",
    table(
      [
        "scenario",
        "uploads",
        "base p50",
        "base p99",
        "proxy p50",
        "proxy p99",
        "proxy max",
        "p50 ×",
        "p99 ×",
        "answers/s",
        "CPU µs/upload",
        "dropped",
      ],
      r.answers.map((a) => [
        a.name,
        int(a.total),
        ms(a.baseline.p50),
        ms(a.baseline.p99),
        ms(a.proxy.p50),
        ms(a.proxy.p99),
        ms(a.proxy.max),
        x(a.ratio.p50),
        x(a.ratio.p99),
        int(a.proxy.perSecond),
        `${int(a.proxy.cpuUsPerUpload)} (${x(a.ratio.cpu)})`,
        `${a.proxy.dropped} (base ${a.baseline.dropped})`,
      ]),
    ),
    "",
    ...(r.freshRounds
      ? [
          `The same proxy, ${r.freshRounds.name}, every upload a new round (journaled and synced before it is confirmed; no baseline: it answers one fixed text): ${int(r.freshRounds.total)} uploads, p50 ${ms(r.freshRounds.proxy.p50)} ms, p99 ${ms(r.freshRounds.proxy.p99)} ms, max ${ms(r.freshRounds.proxy.max)} ms, ${int(r.freshRounds.proxy.perSecond)} answers/s, CPU ${int(r.freshRounds.proxy.cpuUsPerUpload)} µs/upload, dropped ${r.freshRounds.proxy.dropped}`,
          "",
        ]
      : []),
    ...durabilityReport(r.durability),
    ...releaseReport(r.release),
    "Decode throughput (one thread; uploads per second of CPU time, median of 5 windows):",
    "",
    table(
      ["upload", "bytes", "decodeFrame /s", "framer + decode /s"],
      r.decode.map((d) => [d.name, int(d.bytes), int(d.decodePerSecond), int(d.framedPerSecond)]),
    ),
    "",
  );
  if ("skipped" in r.mqtt) out.push(`Upload → MQTT state: skipped (${r.mqtt.skipped})`);
  else {
    const q = r.mqtt;
    out.push(
      `Upload → MQTT state (${q.count} uploads, ${q.ecus} ECUs): p50 ${ms(q.p50)} ms, p99 ${ms(q.p99)} ms, max ${ms(q.max)} ms, missing ${q.missing}, dropped ${q.dropped}`,
    );
  }
  if ("skipped" in r.memory) out.push(`Memory with 500 inverters: skipped (${r.memory.skipped})`);
  else {
    const mem = r.memory;
    out.push(
      `Memory (VmRSS, private RssAnon in brackets): ${mib(r.startup.rssAfterStartMiB)} (${mib(r.startup.anonAfterStartMiB)}) MiB after start;` +
        ` ${mib(mem.rssWithInvertersMiB)} (${mib(mem.anonWithInvertersMiB)}) MiB after ${mem.ecus} ECUs × ${mem.invertersPerEcu} inverters × ${mem.rounds} round(s)` +
        ` (MQTT ${mem.mqtt ? `on, ${mem.invertersPublished} inverter states published` : "off"}; peak ${mib(mem.peakRssMiB)} MiB)`,
    );
  }
  out.push(
    `Start → listening: median ${ms(r.startup.listeningMsMedian)} ms, max ${ms(r.startup.listeningMsMax)} ms (${r.startup.runs} cold start(s))`,
    "",
    "Targets:",
    "",
    table(
      ["target", "goal", "measured", "result"],
      r.targets.map((t) => [
        t.name,
        t.target,
        t.measured,
        t.pass === undefined ? "skipped" : t.pass ? "pass" : "FAIL",
      ]),
    ),
  );
  return out.join("\n");
}
