/**
 * The JSON the status page reads from `api/status`. Plain data only (no class instances), so it
 * is exactly what `JSON.stringify` sends; the page's script (page/app.js) renders these fields.
 * Nothing here may ever carry an option value: the page shows traffic and devices, not settings.
 */

import type { StorageHealth } from "../devices/storageHealth.js";
import type { AnswerSource } from "../proxy/exchange.js";

export type Mode = "cloudless" | "forwarding";

/** One request seen on a port, and what it was answered. */
export interface ConnectionInfo {
  /** Epoch ms. */
  at: number;
  port: number;
  remote: string;
  /** Message type (`upload`, `control_poll`, …, `unknown`, `error`). */
  type: string;
  /** Unknown kind or error code, when there is one. */
  kind?: string;
  ecuId?: string;
  /** The answer as printable text (non-printable bytes as `.`), or null when none was sent. */
  answer: string | null;
  answeredBy: AnswerSource;
}

export interface PortStatus {
  port: number;
  /** What ECUs use this port for (protocol.md §1). */
  purpose: string;
  last: ConnectionInfo | null;
}

export interface ChannelView {
  powerW: number | null;
  dcVoltageV: number | null;
  dcCurrentA: number | null;
  energyTodayWh: number;
  weak: boolean;
}

/** One inverter card: the device registry's record, or a record the decoder kept raw. */
export interface InverterView {
  uid: string;
  model: string;
  typeCode: string;
  /** Reported in the ECU's latest live round. */
  online: boolean;
  temperatureC: number | null;
  acVoltageV: number | null;
  frequencyHz: number | null;
  energyTodayWh: number;
  /** Problem sensors, as Home Assistant shows them. */
  missing: boolean;
  weak: boolean;
  channels: ChannelView[];
  /** Why the latest record was kept raw (unknown layout …): not tracked, worth a capture. */
  problem?: string;
  /**
   * Its type code is unknown and its records are read with the layout of this type code
   * (src/protocol/layouts/inference.ts): decoded, but worth a capture.
   */
  layoutInferred?: string;
  /** Option inverter_control: what the ECU confirmed and what became of the newest change. */
  control?: InverterControlView;
}

export interface InverterControlView {
  on: "ON" | "OFF" | null;
  onStatus: string | null;
  powerLimitW: number | null;
  powerLimitStatus: string | null;
  /** Why the newest change failed, when it did. */
  detail: string | null;
}

/** One point of today's power chart: the ECU's own round time (`HH:mm`) and its power. */
export interface PowerPoint {
  t: string;
  w: number;
}

export interface EcuStatus {
  id: string;
  model: string;
  /** A live round arrived within offline_after_minutes (the same rule Home Assistant sees). */
  online: boolean;
  /** Epoch ms of the last request of any kind naming this ECU. */
  lastContactAt: number | null;
  /** Epoch ms when the newest round arrived. */
  lastUploadAt: number | null;
  /** The ECU's own time of its newest round (`YYYY-MM-DDTHH:mm:ss`, local, as sent). */
  lastRoundTimestamp: string | null;
  powerW: number | null;
  lifetimeEnergyKWh: number | null;
  invertersOnline: number | null;
  /** Today's energy as the Home Assistant sensor shows it. */
  energyTodayWh: number;
  maxPowerTodayW: number | null;
  /** Rounds received too old to be live (resent after an outage): counted, not shown live. */
  backlogRounds: number;
  /** Rounds refused because they were dated too far ahead of the clock. */
  aheadRounds: number;
  /**
   * The ECU clock's learned offset, s (+ ahead, − behind the clock in the configured zone; null
   * until three rounds agreed), and whether it is more than a working clock shows.
   */
  clockOffsetS: number | null;
  clockWrong: boolean;
  series: PowerPoint[];
  inverters: InverterView[];
  /** Kinds of message from this ECU the proxy could not decode (e.g. `APS16`): worth a report. */
  unknownKinds: string[];
}

export interface EmaSummary {
  /** null: not known (cloudless, or nothing forwarded yet). */
  reachable: boolean | null;
  answersFromEma: number;
  answersFromProxy: number;
  /** Why the last forwarding attempt failed, when the forwarder says. */
  lastError?: string;
}

export interface CaptureSummary {
  count: number;
  bytes: number;
  maxBytes: number;
}

/** The Home Assistant side, as far as the page can tell. */
export interface HomeAssistantSummary {
  /** No broker configured: readings are only logged. */
  configured: boolean;
  connected: boolean;
  /** Epoch ms of the last connect or disconnect. */
  since: number | null;
  /** While not connected: why the latest attempt failed (e.g. the broker refused the login). */
  problem: string | null;
  lastPublishAt: number | null;
  /** Devices announced by discovery since the last connect. */
  devicesAnnounced: number;
}

export interface StatusSnapshot {
  generatedAt: number;
  /** Epoch ms when the proxy started listening. */
  listeningSince: number;
  /**
   * This machine's LAN addresses (IPv4), the target of the ECU's DNS rewrite; empty inside the
   * app's container, where only the Supervisor's network is visible (the page then uses the
   * address it was opened with).
   */
  hostAddresses: string[];
  homeAssistant: HomeAssistantSummary;
  /** Whether rounds can be stored (and so confirmed to the ECUs). */
  storage: StorageHealth;
  version: string;
  mode: Mode;
  ema: EmaSummary;
  timezone: string;
  /** `YYYY-MM-DD` in `timezone`: the day "today's energy" belongs to. */
  today: string;
  ports: PortStatus[];
  /** Newest first. */
  recent: ConnectionInfo[];
  ecus: EcuStatus[];
  captures: CaptureSummary;
}
