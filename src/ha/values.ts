/**
 * The JSON state messages, one per device. Entity rows name a field of these types, so a row
 * pointing at a field that does not exist fails to compile.
 */

import { clockWrong, correctionOf } from "../devices/clock.js";
import type { EcuDevice, InverterDevice } from "../devices/model.js";
import { inferredLayoutOf } from "../protocol/layouts/inference.js";
import { ecuTimestampToEpoch, ecuTimestampToIso, epochToIso } from "../zoneTime.js";

export type ProxyMode = "cloudless" | "forwarding";
export const PROXY_MODES: readonly ProxyMode[] = ["cloudless", "forwarding"];

/** `null` renders as `None` in HA templates, which a sensor shows as "unknown". */
export interface EcuValues {
  power: number | null;
  lifetime_energy: number | null;
  energy_today: number;
  max_power_today: number | null;
  max_power: number | null;
  inverters_online: number | null;
  /** Inverters the proxy knows for this ECU, and how many were in its newest live round. */
  inverters_known: number;
  inverters_reporting: number;
  last_upload: string | null;
  last_contact: string | null;
  proxy_mode: ProxyMode;
  /**
   * The proxy cannot write its data directory: rounds are not confirmed (the ECU keeps them)
   * until it can (src/devices/storageHealth.ts). The same for every ECU: they share the disk.
   */
  storage_problem: "ON" | "OFF";
  /**
   * How far the ECU's clock runs ahead (+) or behind (−) the wall clock in the configured zone,
   * minutes, as learned from its rounds (src/devices/clock.ts); null until learned.
   */
  clock_offset: number | null;
  /** The offset is more than a working clock shows: its rounds are judged on corrected time. */
  clock_wrong: "ON" | "OFF";
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
  energy_today: number;
  lifetime_energy: number;
  weak: "ON" | "OFF";
}

export interface InverterValues {
  online: "ON" | "OFF";
  ac_voltage: number | null;
  frequency: number | null;
  temperature: number | null;
  power: number | null;
  energy_today: number;
  lifetime_energy: number;
  /** 3-phase inverters only (L1 is `ac_voltage`). */
  ac_voltage_l2?: number | null;
  ac_voltage_l3?: number | null;
  missing: "ON" | "OFF";
  weak: "ON" | "OFF";
  /**
   * The record's type code is unknown and it was read with a known layout its id and length
   * fit (src/protocol/layouts/inference.ts); an attribute of the power sensor.
   */
  layout_inferred: boolean;
  channels: ChannelValues[];
}

/** mWh → kWh; integer ÷ 1e6 prints without float noise (2828 → 0.002828). */
function kWh(mWh: number): number {
  return mWh / 1e6;
}

const onOff = (flag: boolean): "ON" | "OFF" => (flag ? "ON" : "OFF");

/** The newest live round's time on the wall clock: its stamp, corrected when the clock is off. */
function lastUpload(ecu: EcuDevice, zone: string): string | null {
  const ts = ecu.lastRoundTimestamp;
  if (ts === null) return null;
  const correction = correctionOf(ecu.clock);
  if (correction === 0) return ecuTimestampToIso(ts, zone);
  return epochToIso(ecuTimestampToEpoch(ts, zone) - correction * 1000, zone);
}

export function ecuValues(
  ecu: EcuDevice,
  inverters: readonly InverterDevice[],
  mode: ProxyMode,
  zone: string,
  ema?: EmaDiagnostics,
  storageOk = true,
): EcuValues {
  return {
    power: ecu.powerW,
    lifetime_energy: ecu.lifetimeEnergyKWh,
    energy_today: kWh(ecu.energyTodayMWh),
    max_power_today: ecu.maxPowerTodayW,
    max_power: ecu.maxPowerEverW,
    inverters_online: ecu.invertersOnline,
    inverters_known: inverters.length,
    inverters_reporting: inverters.filter((inv) => inv.online).length,
    last_upload: lastUpload(ecu, zone),
    last_contact: ecu.lastContactAt === null ? null : epochToIso(ecu.lastContactAt, zone),
    proxy_mode: mode,
    storage_problem: onOff(!storageOk),
    clock_offset: ecu.clock.offsetS === null ? null : Math.round(ecu.clock.offsetS / 60),
    clock_wrong: onOff(clockWrong(ecu.clock)),
    ...(ema && {
      ema_reachable: ema.emaReachable === undefined ? null : ema.emaReachable ? "ON" : "OFF",
      answers_from_ema: ema.answersFromEma,
      answers_from_proxy: ema.answersFromProxy,
    }),
  };
}

/** Total inverter power = sum of its channels' DC power (the AC field's scale is unconfirmed). */
function totalPower(inv: InverterDevice): number | null {
  const known = inv.channels.map((c) => c.powerW).filter((p): p is number => p !== null);
  if (known.length === 0) return null;
  return Math.round(known.reduce((a, b) => a + b, 0) * 100) / 100;
}

/** A 3-phase inverter reports one voltage per phase (protocol: type 04 and QT2 layouts). */
export function isThreePhase(inv: Pick<InverterDevice, "phaseVoltagesV">): boolean {
  return inv.phaseVoltagesV.length >= 3;
}

export function inverterValues(inv: InverterDevice): InverterValues {
  return {
    online: onOff(inv.online),
    ac_voltage: inv.acVoltageV,
    frequency: inv.frequencyHz,
    temperature: inv.temperatureC,
    power: totalPower(inv),
    energy_today: kWh(inv.energyTodayMWh),
    lifetime_energy: kWh(inv.lifetimeMWh),
    ...(isThreePhase(inv) && {
      ac_voltage_l2: inv.phaseVoltagesV[1] ?? null,
      ac_voltage_l3: inv.phaseVoltagesV[2] ?? null,
    }),
    missing: onOff(inv.missing),
    weak: onOff(inv.weak),
    layout_inferred: inferredLayoutOf(inv.typeCode, inv.channels.length) !== undefined,
    channels: inv.channels.map((c) => ({
      power: c.powerW,
      dc_voltage: c.dcVoltageV,
      dc_current: c.dcCurrentA,
      energy_today: kWh(c.energyTodayMWh),
      lifetime_energy: kWh(c.lifetimeMWh),
      weak: onOff(c.weak),
    })),
  };
}
