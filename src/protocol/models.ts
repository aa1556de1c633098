import { INVERTER_LAYOUTS } from "./layouts/index.js";
import type { InverterModel, PowerEncoding } from "./types.js";

interface EcuFamily {
  model: string;
  /**
   * How this family's firmware writes the upload header's power field (protocol.md §3.1), used
   * only when no inverter record can confirm it. Linux units (ECU-C, ECU-R Pro; ECU-3 whose
   * source FW-ECU3 is) write W × 100 in the firmware read (protocol-update-2026-12.md §0, §4);
   * the RT-Thread ECU-R wrote plain W in the only real capture (2024), and the ECU-B shares its
   * firmware lineage. Firmware nobody has read may differ (U3): this is a prior, not a fact.
   */
  headerPower?: PowerEncoding;
}

/** ECU id prefixes → model (protocol.md §3.3). Longest prefix wins. */
const ECU_PREFIXES: ReadonlyArray<readonly [string, EcuFamily]> = [
  ["2160", { model: "ECU-R", headerPower: "W" }],
  ["2162", { model: "ECU-R Pro", headerPower: "Wx100" }],
  ["2163", { model: "ECU-B", headerPower: "W" }],
  ["215", { model: "ECU-C", headerPower: "Wx100" }],
  ["2030", { model: "ECU-3", headerPower: "Wx100" }],
  // APS16 uploads are not decoded (§10); no header to read.
  ["2240", { model: "optimizer ECU" }],
];

/** What a uid prefix says about an inverter. */
export interface InverterFamily {
  model: InverterModel;
  /**
   * DC inputs per inverter, as the source says; undefined where none does. Layout inference
   * (layouts/inference.ts) needs it: a record of unknown type is read only with a layout of
   * exactly this many inputs.
   */
  inputs: number | undefined;
  /** Where the row comes from (protocol.md §0 keys, §3.3). */
  source: string;
}

/**
 * Inverter uid prefixes → model family (protocol.md §3.3). Longest prefix wins. HAE-P is the
 * HACS proxy (HAEdwin/homeassistant-apsystems_ecu_proxy, api.py), which reads the channels of
 * every record by uid prefix whatever its type code; HAE-RD its sister local-port reader
 * (const.py INVERTER_MODEL_MAP).
 */
const INVERTER_PREFIXES: ReadonlyArray<readonly [string, InverterFamily]> = [
  ["10", { model: "YC500", inputs: 2, source: "HAE-RD INVERTER_MODEL_MAP" }],
  ["403", { model: "YC500", inputs: 2, source: "HAE-P api.py, 2 channels (2024-06-21 on)" }],
  ["404", { model: "YC500", inputs: 2, source: "HAE-P api.py, 2 channels (2024-06-21 on)" }],
  [
    "40",
    { model: "YC600", inputs: 2, source: "HAE-RD; HAE-P api.py 406-409 'YC600/DS3', 2 channels" },
  ],
  [
    "50",
    { model: "YC1000", inputs: 4, source: "HAE-P api.py 501-504 'YC1000/QT2', 4 channels; HAE-RD" },
  ],
  ["70", { model: "DS3", inputs: 2, source: "HAE-RD '70' DS3; HAE-P api.py 703/706, 2 channels" }],
  ["80", { model: "QS1", inputs: 4, source: "HAE-P api.py 801/802/805/806, 4 channels; HAE-RD" }],
  ["90", { model: "QT2", inputs: 4, source: "HAE-RD '90' QT2, 4 inputs (3-phase)" }],
  ["601", { model: "optimizer", inputs: undefined, source: "FW-ECU3 task11_ftp/test (dev log)" }],
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
  return ecuByPrefix(ecuId)?.model ?? "unknown";
}

/** The header power encoding this ECU's firmware family is expected to use, if known. */
export function ecuHeaderPowerPrior(ecuId: string): PowerEncoding | undefined {
  return ecuByPrefix(ecuId)?.headerPower;
}

/**
 * Nameplate AC output per inverter family the decoder knows, W — the largest of the family,
 * because a uid prefix names a family, not a variant (protocol.md §3.3: DS3-L/-H, QS1A,
 * YC1000-3-K480 share prefixes). QS1 1225 W and YC500 500 W: the California Energy Commission's
 * inverter list (`Paco` at 240 V, as shipped in NREL SAM `deploy/libraries/CEC Inverters.csv`;
 * it also lists YC250A 225, YC600 550, YC1000-3 900 W continuous). YC250 250, YC600 600,
 * YC1000 1000, DS3 960 (DS3-H; DS3 880, DS3-L 730, DS3-S 640) and QT2 2000: APsystems datasheet
 * figures as collected for issue 12 and src/devices' plausibility bounds; not re-checked here.
 * The optimizer family has no AC rating.
 */
const RATED_POWER_W: Readonly<Record<InverterModel, number | undefined>> = {
  YC250: 250,
  YC500: 500,
  YC600: 600,
  YC1000: 1000,
  QS1: 1225,
  DS3: 960,
  QT2: 2000,
  optimizer: undefined,
  unknown: undefined,
};

/**
 * Rated AC power of an inverter model (`"QS1"`) or of the product an EMA type code stands for
 * (`"08"` → QS1), in W; undefined when the decoder does not know it.
 */
export function ratedPowerW(modelOrTypeCode: InverterModel | string): number | undefined {
  const model = INVERTER_LAYOUTS[modelOrTypeCode]?.product ?? modelOrTypeCode;
  return Object.hasOwn(RATED_POWER_W, model) ? RATED_POWER_W[model as InverterModel] : undefined;
}

export function inverterFamily(uid: string): InverterModel | undefined {
  return inverterByPrefix(uid)?.model;
}

/** The family row of a uid's prefix (model, inputs, source), if the tables know it. */
export function inverterFamilyOf(uid: string): InverterFamily | undefined {
  return inverterByPrefix(uid);
}
