import { type InverterLayout, MODERN_HEAD, modernChannel } from "./fields.js";

/** Type 08, QS1, 4 inputs. */
export const QS1_LAYOUT: InverterLayout = {
  typeCode: "08",
  product: "QS1",
  length: 125,
  ...MODERN_HEAD,
  channels: [
    modernChannel(45, "1"),
    modernChannel(65, "2"),
    modernChannel(85, "3"),
    modernChannel(105, "4"),
  ],
};
