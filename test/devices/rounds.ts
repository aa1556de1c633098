/**
 * Decoded uploads for the device-layer tests, as the decoder would produce them, with the
 * fields a test varies (time, lifetime, per-panel power and energy) and the rest realistic.
 */
import type { DevicesConfig } from "../../src/devices/registry.js";
import type { Inverter, InverterModel, UploadMessage } from "../../src/protocol/types.js";

export const ZONE = "Europe/Amsterdam";
export const ECU = "216000064136";

export interface PanelRound {
  powerW: number;
  /** Energy of this round, Wh (default: power over 5 minutes). */
  energyWh?: number | undefined;
}

export interface InverterRound {
  uid: string;
  model?: InverterModel;
  typeCode?: string;
  panels: PanelRound[];
  phaseVoltagesV?: number[];
}

export interface RoundSpec {
  ecuId?: string;
  /** `YYYY-MM-DDTHH:mm:ss`, the ECU's local time. */
  timestamp: string;
  lifetimeKWh?: number;
  /** Header power; default the sum of the panels. */
  powerW?: number;
  invertersOnline?: number;
  inverters: InverterRound[];
}

function inverterOf(spec: InverterRound): Inverter {
  const inv: Inverter = {
    uid: spec.uid,
    typeCode: spec.typeCode ?? (spec.panels.length === 4 ? "08" : "07"),
    model: spec.model ?? (spec.panels.length === 4 ? "QS1" : "YC600"),
    frequencyHz: 50,
    temperatureC: 30,
    acVoltageV: 230,
    channels: spec.panels.map((p) => ({
      powerW: p.powerW,
      dcVoltageV: 33.5,
      dcCurrentA: Math.round((p.powerW / 33.5) * 10) / 10,
      energyWh: p.energyWh ?? Math.round((p.powerW / 12) * 1000) / 1000,
    })),
  };
  if (spec.phaseVoltagesV) inv.phaseVoltagesV = spec.phaseVoltagesV;
  return inv;
}

export function upload(spec: RoundSpec): UploadMessage {
  const inverters = spec.inverters.map(inverterOf);
  const sum = inverters.flatMap((i) => i.channels).reduce((a, c) => a + c.powerW, 0);
  return {
    type: "upload",
    version: "18",
    fillUp: false,
    ecu: {
      id: spec.ecuId ?? ECU,
      model: "ECU-R",
      timestamp: spec.timestamp,
      powerW: spec.powerW ?? Math.round(sum),
      lifetimeEnergyKWh: spec.lifetimeKWh ?? 1000,
      invertersOnline: spec.invertersOnline ?? inverters.length,
      roundEnergyKWh: 0,
      powerEncoding: "W",
      timezoneChanged: false,
    },
    inverters,
    notes: [],
  };
}

/** Epoch ms of an Amsterdam wall-clock time in winter (UTC+1). */
export function amsterdam(timestamp: string): number {
  return Date.parse(`${timestamp}+01:00`);
}

/** `YYYY-MM-DDTHH:mm:ss` `minutes` after `timestamp` (no zone: wall-clock arithmetic). */
export function plusMinutes(timestamp: string, minutes: number): string {
  return new Date(Date.parse(`${timestamp}Z`) + minutes * 60_000).toISOString().slice(0, 19);
}

export function devicesConfig(
  dataDir: string,
  logger: DevicesConfig["logger"],
  now: () => number,
  overrides: Partial<DevicesConfig> = {},
): DevicesConfig {
  return {
    dataDir,
    zone: ZONE,
    offlineAfterMs: 15 * 60_000,
    staleAfterMs: 0,
    limits: { maxEcus: 16, maxInvertersPerEcu: 100 },
    weakRatio: 0.25,
    logger,
    now,
    checkIntervalMs: 3_600_000,
    ...overrides,
  };
}
