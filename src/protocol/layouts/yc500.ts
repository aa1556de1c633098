import { type InverterLayout, LEGACY_HEAD, modernChannel } from "./fields.js";

/** Type 03, YC500, 2 inputs `A`/`B`. */
export const YC500_LAYOUT: InverterLayout = {
  typeCode: "03",
  product: "YC500",
  length: 103,
  ...LEGACY_HEAD,
  channels: [modernChannel(41, "A"), modernChannel(72, "B")],
};
