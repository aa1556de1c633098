import type { ChannelLayout, InverterLayout } from "./fields.js";

/** 34-char phase block of type 04: marker, A×10, grid V, reactive, active, output, mWh, W×100. */
function phaseChannel(offset: number, marker: string): ChannelLayout {
  return {
    offset,
    marker,
    dcCurrent: { offset: 1, width: 3, divisor: 10 },
    energy: { offset: 23, width: 6, divisor: 1000 },
    power: { offset: 29, width: 5, divisor: 100 },
  };
}

/**
 * Type 04, YC1000 3-phase: DC V, frequency, temperature, then phases 1-3 and a 4th DC input.
 */
export const YC1000_LAYOUT: InverterLayout = {
  typeCode: "04",
  product: "YC1000",
  length: 144,
  dcVoltage: { offset: 14, width: 5, divisor: 10 },
  frequency: { offset: 19, width: 5, divisor: 10 },
  temperature: { offset: 24, width: 3, encoding: "plus100" },
  phaseVoltages: [
    { offset: 31, width: 3, divisor: 1 },
    { offset: 65, width: 3, divisor: 1 },
    { offset: 99, width: 3, divisor: 1 },
  ],
  channels: [
    phaseChannel(27, "1"),
    phaseChannel(61, "2"),
    phaseChannel(95, "3"),
    {
      offset: 129,
      marker: "4",
      dcCurrent: { offset: 1, width: 3, divisor: 10 },
      energy: { offset: 4, width: 6, divisor: 1000 },
      power: { offset: 10, width: 5, divisor: 100 },
    },
  ],
};
