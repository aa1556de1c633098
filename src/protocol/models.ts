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

/**
 * Longest-prefix lookup as one map per prefix length, longest first: a few map probes per id
 * instead of a scan of every row (it runs for each inverter of each upload). The first row
 * wins among equal prefixes, as in the tables' order.
 */
function prefixLookup<T>(
  table: ReadonlyArray<readonly [string, T]>,
): (id: string) => T | undefined {
  const byLength = new Map<number, Map<string, T>>();
  for (const [prefix, value] of table) {
    let map = byLength.get(prefix.length);
    if (!map) {
      map = new Map();
      byLength.set(prefix.length, map);
    }
    if (!map.has(prefix)) map.set(prefix, value);
  }
  const levels = [...byLength].sort((a, b) => b[0] - a[0]);
  return (id) => {
    for (const [length, map] of levels) {
      if (id.length < length) continue;
      const hit = map.get(id.slice(0, length));
      if (hit !== undefined) return hit;
    }
    return undefined;
  };
}

const ecuByPrefix = prefixLookup(ECU_PREFIXES);
const inverterByPrefix = prefixLookup(INVERTER_PREFIXES);

export function ecuModel(ecuId: string): string {
  return ecuByPrefix(ecuId) ?? "unknown";
}

export function inverterFamily(uid: string): InverterModel | undefined {
  return inverterByPrefix(uid);
}
