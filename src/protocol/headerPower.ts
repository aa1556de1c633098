import { scaled } from "./digits.js";
import { ecuHeaderPowerPrior, ecuModel, inverterFamily, ratedPowerW } from "./models.js";
import type { Inverter, PowerEncoding } from "./types.js";

/**
 * Reading the upload header's power field (protocol.md §3.1, protocol-update-2026-12.md §6.1).
 * The same 10 digits hold plain W (2024 ECU-R capture) or W × 100 (Linux/FW-ECU3 and 2017/18
 * firmware), so `0000019000` is 19,000 W or 190 W. In order:
 * 1. when every inverter record decoded, the reading that matches the channels' sum;
 * 2. else only readings the inverters can deliver (and, when some records decoded, at least
 *    what those already deliver); of two such readings, the one the ECU's family is expected
 *    to write (models.ts) — plain W when the family is not known, as in the only real capture;
 * 3. no plausible reading: power unknown (null). Never a value the site cannot produce.
 * Each choice not confirmed by the channels is explained in the upload's notes.
 */

/** A rating for inverters the decoder has none for: the largest it knows (QT2). */
const UNKNOWN_INVERTER_W = 2000;
/**
 * Headroom over the nameplate: variants a uid prefix does not tell apart (QS1A 1516 W within
 * QS1), rounding, measurement. A 100× misreading still exceeds the ceiling once the real power
 * is above 1.5 % of it.
 */
const CEILING_MARGIN = 1.5;

const NAMES: Readonly<Record<PowerEncoding, string>> = { W: "plain W", Wx100: "W × 100" };

/** Header power and channel sum agree when within 5 W or 10 % (rounding, inverter losses). */
export function agrees(value: number, channelSum: number): boolean {
  return Math.abs(value - channelSum) <= Math.max(5, channelSum * 0.1);
}

export interface HeaderPowerInput {
  /** The header's power digits as an integer. */
  raw: number;
  ecuId: string;
  /** Fill-up records write plain W whatever the firmware (FW-ECU3 fill_up_data.c, §6). */
  fillUp: boolean;
  invertersOnline: number;
  inverters: readonly Inverter[];
}

export interface HeaderPower {
  powerW: number | null;
  encoding: PowerEncoding | null;
  notes: string[];
}

/** The most the site's online inverters can deliver, W. */
function ceilingW(input: HeaderPowerInput): { ceiling: number; count: number } {
  const count = Math.max(input.invertersOnline, input.inverters.length);
  let largest = input.inverters.length < count ? UNKNOWN_INVERTER_W : 0;
  for (const inv of input.inverters) {
    const rated = ratedPowerW(inverterFamily(inv.uid) ?? inv.model) ?? UNKNOWN_INVERTER_W;
    largest = Math.max(largest, rated);
  }
  return { ceiling: Math.round(count * largest * CEILING_MARGIN), count };
}

export function readHeaderPower(input: HeaderPowerInput): HeaderPower {
  const { raw } = input;
  const value: Record<PowerEncoding, number> = { W: raw, Wx100: scaled(raw, 100) };
  // One pass over the channels, in upload order (the float sum is the same as ever).
  let channels = 0;
  let total = 0;
  let allDecoded = true;
  for (const inv of input.inverters) {
    if (inv.problem) allDecoded = false;
    for (const ch of inv.channels) {
      total += ch.powerW;
      channels++;
    }
  }
  const channelSum = channels > 0 ? Math.round(total * 100) / 100 : undefined;
  const complete =
    channelSum !== undefined && allDecoded && input.inverters.length === input.invertersOnline;

  if (complete) {
    const w = agrees(value.W, channelSum);
    if (w !== agrees(value.Wx100, channelSum)) {
      const encoding = w ? "W" : "Wx100";
      return { powerW: value[encoding], encoding, notes: [] };
    }
  }

  const { ceiling, count } = ceilingW(input);
  const floor = !complete && channelSum !== undefined ? channelSum : undefined;
  const why = (encoding: PowerEncoding): string | undefined => {
    if (value[encoding] > ceiling) {
      return `more than ${count} inverter(s) can deliver (${ceiling} W)`;
    }
    if (floor !== undefined && value[encoding] < floor && !agrees(value[encoding], floor)) {
      return `less than the decoded inverters alone deliver (${floor} W)`;
    }
    return undefined;
  };
  const rejected = { W: why("W"), Wx100: why("Wx100") };
  const notes: string[] = [];
  const prior = input.fillUp ? "W" : ecuHeaderPowerPrior(input.ecuId);
  let encoding: PowerEncoding;
  if (rejected.W && rejected.Wx100) {
    notes.push(
      `header power field ${raw} is implausible as plain W (${value.W} W: ${rejected.W}) and as W × 100 (${value.Wx100} W: ${rejected.Wx100}): power unknown`,
    );
    return { powerW: null, encoding: null, notes };
  }
  if (rejected.W || rejected.Wx100) {
    encoding = rejected.W ? "Wx100" : "W";
    const other = encoding === "W" ? "Wx100" : "W";
    notes.push(
      `header power read as ${NAMES[encoding]} (${value[encoding]} W): as ${NAMES[other]} it would be ${value[other]} W, ${rejected[other]}`,
    );
  } else {
    encoding = prior ?? "W";
    if (!complete && value.W !== value.Wx100) {
      const basis = input.fillUp
        ? "fill-up records carry plain W"
        : prior
          ? `the ${ecuModel(input.ecuId)} firmware family writes it so`
          : "the only real capture has it so";
      notes.push(
        `header power read as ${NAMES[encoding]} (${value[encoding]} W), not confirmed by any inverter record: ${basis}`,
      );
    }
  }
  const powerW = value[encoding];
  if (complete && !agrees(powerW, channelSum)) {
    notes.push(`header power ${powerW} W disagrees with the channel sum ${channelSum} W`);
  }
  return { powerW, encoding, notes };
}
