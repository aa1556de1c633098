import { apsFrame } from "./apsFrame.js";

/**
 * A123 answers carry no ECU id (the firmware skips the id check for A123): flag `1` at 18,
 * count `00` at 19-20, then END — 24 bytes.
 */
export const STATUS_ANSWER = apsFrame("13", "0", "A123AAA0100END");
