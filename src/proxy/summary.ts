import type { Inverter, UploadMessage } from "../protocol/types.js";

function inverterPower(inv: Inverter): number {
  return Math.round(inv.channels.reduce((sum, ch) => sum + ch.powerW, 0) * 10) / 10;
}

/** One readable line per upload for the info log. */
export function summariseUpload(upload: UploadMessage): string {
  const { ecu } = upload;
  const inverters = upload.inverters
    .map((inv) =>
      inv.problem
        ? `${inv.uid} ${inv.model} (raw: ${inv.problem})`
        : `${inv.uid} ${inv.model} ${inverterPower(inv)} W ${inv.temperatureC ?? "?"}°C${inv.layoutInferred ? " (layout inferred)" : ""}`,
    )
    .join(", ");
  return (
    `ECU ${ecu.id} (${ecu.model}) ${ecu.timestamp}: ${ecu.powerW === null ? "power unknown" : `${ecu.powerW} W`}, ` +
    `${ecu.lifetimeEnergyKWh} kWh lifetime, ${ecu.invertersOnline} inverter(s)` +
    (inverters ? ` — ${inverters}` : "")
  );
}
