import type { InverterModel } from "./types.js";

/** ECU id prefixes → model (protocol.md §3.3). Longest prefix wins. */
const ECU_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ["2160", "ECU-R"],
  ["2162", "ECU-R Pro"],
  ["2163", "ECU-B"],
  ["215", "ECU-C"],
  ["2030", "ECU-3"],
  ["2240", "optimizer ECU"],
];

/** Inverter uid prefixes → model family (protocol.md §3.3: HAE-RD, HAE-P). Longest prefix wins. */
const INVERTER_PREFIXES: ReadonlyArray<readonly [string, InverterModel]> = [
  ["10", "YC500"],
  ["403", "YC500"],
  ["404", "YC500"],
  ["40", "YC600"],
  ["50", "YC1000"],
  ["70", "DS3"],
  ["80", "QS1"],
  ["90", "QT2"],
  ["601", "optimizer"],
];

function byLongestPrefix<T>(table: ReadonlyArray<readonly [string, T]>, id: string): T | undefined {
  let best: readonly [string, T] | undefined;
  for (const row of table) {
    if (id.startsWith(row[0]) && (!best || row[0].length > best[0].length)) best = row;
  }
  return best?.[1];
}

export function ecuModel(ecuId: string): string {
  return byLongestPrefix(ECU_PREFIXES, ecuId) ?? "unknown";
}

export function inverterFamily(uid: string): InverterModel | undefined {
  return byLongestPrefix(INVERTER_PREFIXES, uid);
}
