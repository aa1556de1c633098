import { type InverterLayout, LEGACY_HEAD, modernChannel } from "./fields.js";

/** Type 05, YC250, 1 input: head 41 chars + one 31-char block. */
export const YC250_LAYOUT: InverterLayout = {
  typeCode: "05",
  product: "YC250",
  length: 72,
  ...LEGACY_HEAD,
  channels: [modernChannel(41, "A")],
};
