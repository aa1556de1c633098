import { type InverterLayout, MODERN_HEAD, modernChannel } from "./fields.js";

/** Type 07, YC600 (and the capture's 408… inverter), 2 inputs. */
export const YC600_LAYOUT: InverterLayout = {
  typeCode: "07",
  product: "YC600",
  length: 85,
  ...MODERN_HEAD,
  channels: [modernChannel(45, "1"), modernChannel(65, "2")],
};
