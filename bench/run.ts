/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --against OTHER/dist/ecu-proxy.js]`: the benchmark of issue 7, run by tsx after
 * `npm run build` (no part of the add-on: nothing in bench/ is built or shipped). Measures the
 * real CLI (`node dist/ecu-proxy.js serve`, the bundle the add-on runs) as a separate process
 * against a minimal baseline answerer, also a separate process, with the load generated here —
 * loopback only, bounded loops, every child process killed at the end. Prints Markdown tables
 * and writes JSON (bench-results.json). Missing a target is reported, never an exit status: only
 * a crash exits non-zero.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { runProxyOnly, runScenario, type ScenarioResult } from "./answerLatency.js";
import { type BenchConfig, FULL, QUICK } from "./config.js";
import { measureDecode } from "./decodeThroughput.js";
import { measureDurability } from "./durability.js";
import { describeMachine } from "./machine.js";
import { measureMemory } from "./memory.js";
import { type Broker, findMosquitto, startMosquitto } from "./mosquitto.js";
import { measureMqttLatency, mqttOptions, NoStatePublished } from "./mqttLatency.js";
import { makeTempDir, startBaseline, startProxy, stopProcess, withCleanup } from "./processes.js";
import { measureAgainstRelease } from "./release.js";
import { type BenchResults, formatReport } from "./report.js";
import { describeRuntime } from "./runtime.js";
import { measureStartup } from "./startup.js";
import { evaluateTargets } from "./targets.js";
import { generatedUpload, newRounds, REAL_UPLOAD_ANSWER, realUploadWire } from "./uploads.js";

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function bench(config: BenchConfig, against: string | undefined): Promise<BenchResults> {
  const dir = makeTempDir();
  const machine = describeMachine();

  // Decode first, while nothing else runs on the machine.
  progress("decode throughput");
  const wire = realUploadWire();
  const big = generatedUpload(1, 100, "20240206112214");
  const decode = [
    measureDecode("2 inverters (real capture)", 2, wire.subarray(0, -1), wire, config.decodeMs),
    measureDecode("100 inverters", 100, big.frame, big.wire, config.decodeMs),
  ];

  const mosquitto = findMosquitto();
  let broker: Broker | undefined;
  if (mosquitto) broker = await startMosquitto(mosquitto, dir);
  else
    progress(
      "mosquitto not found: MQTT measurements skipped (install it: apt-get install mosquitto)",
    );

  progress("start-up time and memory after start");
  const startup = await measureStartup(dir, config.startupRuns, broker ? mqttOptions(broker) : {});

  const answers: ScenarioResult[] = [];
  let freshRounds: BenchResults["freshRounds"];
  const baseline = await startBaseline(dir, REAL_UPLOAD_ANSWER);
  // The answer path alone (no MQTT), so the ratio to the baseline is about answering.
  // max_ecus above the 50 ECUs of the new-round scenario: each of its rounds is stored.
  const proxy = await startProxy(dir, "latency", { max_ecus: 1000 });
  const proxyTarget = { host: "127.0.0.1", port: proxy.port, pid: proxy.child.pid };
  try {
    for (const scenario of config.scenarios) {
      progress(`answer latency: ${scenario.name} × ${scenario.total}`);
      answers.push(
        await runScenario(
          scenario,
          { host: "127.0.0.1", port: baseline.port, pid: baseline.child.pid },
          proxyTarget,
          wire,
          REAL_UPLOAD_ANSWER,
          config.warmup,
        ),
      );
    }
    const fresh = config.scenarios.find((s) => s.concurrency === 50) ?? config.scenarios[0];
    if (fresh) {
      progress(`answer latency, a new round every upload: ${fresh.name} × ${fresh.total}`);
      freshRounds = {
        name: fresh.name,
        total: fresh.total,
        proxy: await runProxyOnly(fresh, proxyTarget, newRounds(), config.warmup),
      };
    }
  } finally {
    await Promise.all([stopProcess(baseline.child), stopProcess(proxy.child)]);
  }

  const durability = await measureDurability(
    dir,
    config.scenarios.filter((s) => s.concurrency === 1 || s.concurrency === 50),
    config.warmup,
    progress,
  );

  const release = against
    ? await measureAgainstRelease(
        dir,
        against,
        config.scenarios.filter((s) => s.concurrency === 50),
        config.warmup,
        progress,
      )
    : undefined;

  let mqtt: BenchResults["mqtt"] = { skipped: "mosquitto not installed" };
  let memory: BenchResults["memory"] = { skipped: "mosquitto not installed" };
  let bridge = broker;
  if (broker) {
    progress(`upload → MQTT state × ${config.mqttUploads}`);
    try {
      mqtt = await measureMqttLatency(dir, broker, config.mqttUploads);
    } catch (err) {
      if (!(err instanceof NoStatePublished)) throw err;
      mqtt = { skipped: err.message };
      bridge = undefined;
    }
  }
  progress("memory with 500 inverters");
  memory = await measureMemory(dir, bridge, config.memoryRounds);

  const partial = {
    mode: config.mode,
    date: new Date().toISOString(),
    machine,
    proxyRuntime: describeRuntime(),
    answers,
    ...(freshRounds ? { freshRounds } : {}),
    durability,
    ...(release ? { release } : {}),
    decode,
    mqtt,
    memory,
    startup,
  };
  return { ...partial, targets: evaluateTargets(partial) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: process.env.BENCH_QUICK === "1" },
      json: { type: "string", default: "bench-results.json" },
      against: { type: "string" },
    },
    strict: true,
  });
  const config = values.quick ? QUICK : FULL;
  // A bad --json path fails now, not after the run. One directory level only: Node 20's
  // recursive mkdirSync spins forever on a path under /proc.
  const outDir = dirname(values.json);
  if (!existsSync(outDir)) mkdirSync(outDir);
  writeFileSync(values.json, "");
  // Every process and temp dir of the run is gone before the report is written.
  const results = await withCleanup(() =>
    bench(config, values.against ? resolve(values.against) : undefined),
  );
  process.stdout.write(`${formatReport(results)}\n`);
  writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  progress(`results written to ${values.json}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
