import type { Scenario } from "./answerLatency.js";

/** Counts for a full run (the issue's) and for --quick (CI: well under a minute). */
export interface BenchConfig {
  mode: "full" | "quick";
  scenarios: Scenario[];
  /** Uncounted transactions before each measured run. */
  warmup: number;
  decodeMs: number;
  mqttUploads: number;
  memoryRounds: number;
  startupRuns: number;
}

export const FULL: BenchConfig = {
  mode: "full",
  scenarios: [
    { name: "1 ECU sequential", concurrency: 1, total: 2000 },
    { name: "50 concurrent ECUs", concurrency: 50, total: 5000 },
    { name: "200 concurrent ECUs", concurrency: 200, total: 10_000 },
  ],
  warmup: 500,
  decodeMs: 2000,
  mqttUploads: 1000,
  memoryRounds: 3,
  startupRuns: 5,
};

export const QUICK: BenchConfig = {
  mode: "quick",
  scenarios: [
    { name: "1 ECU sequential", concurrency: 1, total: 200 },
    { name: "50 concurrent ECUs", concurrency: 50, total: 500 },
    { name: "200 concurrent ECUs", concurrency: 200, total: 1000 },
  ],
  warmup: 100,
  decodeMs: 300,
  mqttUploads: 100,
  memoryRounds: 1,
  startupRuns: 1,
};
