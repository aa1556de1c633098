/** The targets. Missing one is reported, never an exit status (slow machines exist). */

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** undefined when the measurement was skipped (e.g. no mosquitto). */
  pass: boolean | undefined;
}

export const TARGETS = {
  answerP99Ratio: 2,
  decodePerSecond: 100_000,
  mqttP99Ms: 20,
  rssAfterStartMiB: 60,
  rssWith500MiB: 80,
  listeningMs: 1000,
  /** Durable answers at 50 ECUs on the disk: p99 at most this many times the unsynced one. */
  durableP99Ratio: 1.5,
  /** A round's p99 with 16 × 100 devices kept, at most this many times with none. */
  devicesKeptP99Ratio: 1.5,
  /** `--against` a release: new rounds at 50 ECUs, p99 at most this many times the release's. */
  releaseP99Ratio: 1.5,
} as const;

export function check(
  name: string,
  target: string,
  measured: string,
  pass: boolean | undefined,
): TargetCheck {
  return { name, target, measured, pass };
}

import type { BenchResults } from "./report.js";

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

export function evaluateTargets(r: Omit<BenchResults, "targets">): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const c50 = r.answers.find((a) => a.concurrency === 50);
  if (c50) {
    checks.push(
      check(
        "answer p99 at 50 concurrent ECUs",
        `≤ ${TARGETS.answerP99Ratio}× baseline, 0 dropped`,
        `${fmt(c50.ratio.p99, 2)}× (${fmt(c50.proxy.p99, 2)} vs ${fmt(c50.baseline.p99, 2)} ms), ${c50.proxy.dropped} dropped`,
        c50.ratio.p99 <= TARGETS.answerP99Ratio && c50.proxy.dropped === 0,
      ),
    );
  }
  const vsRelease = r.release?.rows.find((row) => row.load === "new rounds");
  if (vsRelease) {
    checks.push(
      check(
        "new rounds, p99 at 50 ECUs against --against's build",
        `≤ ${TARGETS.releaseP99Ratio}× that build's, 0 dropped`,
        `${fmt(vsRelease.ratio.p99, 2)}× (${fmt(vsRelease.current.p99, 2)} vs ${fmt(vsRelease.release.p99, 2)} ms), ${vsRelease.current.dropped} dropped`,
        vsRelease.ratio.p99 <= TARGETS.releaseP99Ratio && vsRelease.current.dropped === 0,
      ),
    );
  }
  const durable = r.durability?.rows.find((row) => row.where === "disk" && /50/.test(row.scenario));
  if (durable) {
    checks.push(
      check(
        "durable answers, p99 at 50 ECUs on the disk",
        `≤ ${TARGETS.durableP99Ratio}× the same without fsync`,
        `${fmt(durable.ratio.p99, 2)}× (${fmt(durable.durable.p99, 2)} vs ${fmt(durable.noSync.p99, 2)} ms)`,
        durable.ratio.p99 <= TARGETS.durableP99Ratio && durable.durable.dropped === 0,
      ),
    );
  }
  const kept = r.durability?.devicesKept;
  if (kept) {
    checks.push(
      check(
        "a round's p99 with 16 ECUs × 100 inverters kept",
        `≤ ${TARGETS.devicesKeptP99Ratio}× with none kept`,
        `${fmt(kept.ratio.p99, 2)}× (${fmt(kept.kept.p99, 2)} vs ${fmt(kept.empty.p99, 2)} ms)`,
        kept.ratio.p99 <= TARGETS.devicesKeptP99Ratio,
      ),
    );
  }
  const two = r.decode.find((d) => d.inverters === 2);
  if (two) {
    checks.push(
      check(
        "decode, 2-inverter uploads",
        `≥ ${TARGETS.decodePerSecond.toLocaleString("en-US")}/s`,
        `${Math.round(two.decodePerSecond).toLocaleString("en-US")}/s`,
        two.decodePerSecond >= TARGETS.decodePerSecond,
      ),
    );
  }
  checks.push(
    "skipped" in r.mqtt
      ? check("upload → MQTT state p99", `≤ ${TARGETS.mqttP99Ms} ms`, r.mqtt.skipped, undefined)
      : check(
          "upload → MQTT state p99",
          `≤ ${TARGETS.mqttP99Ms} ms, none missing`,
          `${fmt(r.mqtt.p99, 2)} ms, ${r.mqtt.missing} missing`,
          r.mqtt.p99 <= TARGETS.mqttP99Ms && r.mqtt.missing === 0 && r.mqtt.dropped === 0,
        ),
  );
  checks.push(
    check(
      "RSS after start",
      `≤ ${TARGETS.rssAfterStartMiB} MiB`,
      `${fmt(r.startup.rssAfterStartMiB)} MiB`,
      r.startup.rssAfterStartMiB <= TARGETS.rssAfterStartMiB,
    ),
  );
  checks.push(
    "skipped" in r.memory
      ? check(
          "RSS with 500 inverters",
          `≤ ${TARGETS.rssWith500MiB} MiB`,
          r.memory.skipped,
          undefined,
        )
      : check(
          "RSS with 500 inverters",
          `≤ ${TARGETS.rssWith500MiB} MiB${r.memory.mqtt ? "" : " (MQTT off)"}`,
          `${fmt(r.memory.rssWithInvertersMiB)} MiB`,
          r.memory.rssWithInvertersMiB <= TARGETS.rssWith500MiB && r.memory.dropped === 0,
        ),
  );
  checks.push(
    check(
      "start → listening",
      `≤ ${TARGETS.listeningMs} ms`,
      `${fmt(r.startup.listeningMsMax, 0)} ms (worst of ${r.startup.runs})`,
      r.startup.listeningMsMax <= TARGETS.listeningMs,
    ),
  );
  return checks;
}
