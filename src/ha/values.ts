/**
 * The JSON state messages, one per device. Entity rows name a field of these types, so a row
 * pointing at a field that does not exist fails to compile.
 */
import type { EcuRecord, InverterRecord } from "./model.js";
import { ecuTimestampToIso, epochToIso } from "./time.js";

export type ProxyMode = "cloudless" | "forwarding";
export const PROXY_MODES: readonly ProxyMode[] = ["cloudless", "forwarding"];

/** `null` renders as `None` in HA templates, which a sensor shows as "unknown". */
export interface EcuValues {
  power: number | null;
  lifetime_energy: number | null;
  energy_today: number;
  max_power_today: number | null;
  inverters_online: number | null;
  last_upload: string | null;
  last_contact: string | null;
  proxy_mode: ProxyMode;
  /** Forwarding diagnostics; absent in cloudless mode (their entities are not announced then). */
  ema_reachable?: "ON" | "OFF" | null;
  answers_from_ema?: number;
  answers_from_proxy?: number;
}

/** What the EMA forwarder reports (src/ema), as far as Home Assistant shows it. */
export interface EmaDiagnostics {
  emaReachable: boolean | undefined;
  answersFromEma: number;
  answersFromProxy: number;
}

export interface ChannelValues {
  power: number | null;
  dc_voltage: number | null;
  dc_current: number | null;
}

export interface InverterValues {
  online: "ON" | "OFF";
  ac_voltage: number | null;
  frequency: number | null;
  temperature: number | null;
  power: number | null;
  energy_today: number;
  channels: ChannelValues[];
}

/** mWh → kWh; integer ÷ 1e6 prints without float noise (2828 → 0.002828). */
function kWh(mWh: number): number {
  return mWh / 1e6;
}

export function ecuValues(
  ecu: EcuRecord,
  mode: ProxyMode,
  zone: string,
  ema?: EmaDiagnostics,
): EcuValues {
  return {
    power: ecu.powerW,
    lifetime_energy: ecu.lifetimeEnergyKWh,
    energy_today: kWh(ecu.energyTodayMWh),
    max_power_today: ecu.maxPowerTodayW,
    inverters_online: ecu.invertersOnline,
    last_upload:
      ecu.lastRoundTimestamp === null ? null : ecuTimestampToIso(ecu.lastRoundTimestamp, zone),
    last_contact: ecu.lastContactAt === null ? null : epochToIso(ecu.lastContactAt, zone),
    proxy_mode: mode,
    ...(ema && {
      ema_reachable: ema.emaReachable === undefined ? null : ema.emaReachable ? "ON" : "OFF",
      answers_from_ema: ema.answersFromEma,
      answers_from_proxy: ema.answersFromProxy,
    }),
  };
}

/** Total inverter power = sum of its channels' DC power (the AC field's scale is unconfirmed). */
function totalPower(inv: InverterRecord): number | null {
  const known = inv.channels.map((c) => c.powerW).filter((p): p is number => p !== null);
  if (known.length === 0) return null;
  return Math.round(known.reduce((a, b) => a + b, 0) * 100) / 100;
}

export function inverterValues(inv: InverterRecord): InverterValues {
  return {
    online: inv.online ? "ON" : "OFF",
    ac_voltage: inv.acVoltageV,
    frequency: inv.frequencyHz,
    temperature: inv.temperatureC,
    power: totalPower(inv),
    energy_today: kWh(inv.energyTodayMWh),
    channels: inv.channels.map((c) => ({
      power: c.powerW,
      dc_voltage: c.dcVoltageV,
      dc_current: c.dcCurrentA,
    })),
  };
}
