import type { InverterLayout } from "./fields.js";
import { QS1_LAYOUT } from "./qs1.js";
import { YC250_LAYOUT } from "./yc250.js";
import { YC500_LAYOUT } from "./yc500.js";
import { YC600_LAYOUT } from "./yc600.js";
import { YC1000_LAYOUT } from "./yc1000.js";

/**
 * The record layout for each EMA type code at record offset 12 (protocol.md §3.3); the fields
 * and their scales are described in fields.ts.
 */
export const INVERTER_LAYOUTS: Readonly<Record<string, InverterLayout>> = {
  "05": YC250_LAYOUT,
  "03": YC500_LAYOUT,
  "04": YC1000_LAYOUT,
  "07": YC600_LAYOUT,
  "08": QS1_LAYOUT,
};
