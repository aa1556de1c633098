import { networkInterfaces } from "node:os";
import { clockWrong } from "../devices/clock.js";
import type { EcuDevice, InverterDevice } from "../devices/model.js";
import type { StorageHealth } from "../devices/storageHealth.js";
import { messageEcuId } from "../protocol/ecuId.js";
import { inferredLayoutOf } from "../protocol/layouts/inference.js";
import { ecuModel } from "../protocol/models.js";
import type { Exchange } from "../proxy/exchange.js";
import { plainAddress } from "./access.js";
import type {
  CaptureSummary,
  ConnectionInfo,
  EcuStatus,
  EmaSummary,
  HomeAssistantSummary,
  InverterControlView,
  InverterView,
  Mode,
  PortStatus,
  StatusSnapshot,
} from "./types.js";

/** How many exchanges the page lists. */
export const RECENT_LIMIT = 20;
/** Longest answer text shown; answers are at most ~60 bytes today, this bounds unknown ones. */
const ANSWER_TEXT_MAX = 120;
/** Raw inverter records remembered per ECU (for the "please send captures" hint). */
const RAW_RECORDS_MAX = 20;

const PORT_PURPOSE: Record<number, string> = {
  8995: "uploads",
  8996: "uploads",
  8997: "control",
  9220: "WiFi-module OTA",
};

/** What the page reads of the device registry (src/devices): the same records HA is sent. */
export interface DevicesView {
  readonly ecus: readonly EcuDevice[];
  inverters(ecuId: string): readonly InverterDevice[];
  today(): string;
  /** Whether the data directory takes writes (src/devices/storageHealth.ts). */
  readonly storageHealth: StorageHealth;
}

export interface StatusModelConfig {
  mode: Mode;
  version: string;
  timezone: string;
  devices: DevicesView;
  now?: () => number;
  /** Stats of the EMA forwarder, when one runs; otherwise they are counted from exchanges. */
  ema?: () => EmaSummary;
  captures?: () => CaptureSummary;
  homeAssistant?: () => HomeAssistantSummary;
  /** This machine's LAN addresses (default: from its network interfaces). */
  hostAddresses?: () => string[];
  /** Inverter control's view of an inverter (option inverter_control). */
  control?: (uid: string) => InverterControlView;
}

function printable(answer: Buffer | null): string | null {
  if (!answer) return null;
  const text = answer.toString("latin1").replace(/[^\x20-\x7e]/g, ".");
  return text.length > ANSWER_TEXT_MAX ? `${text.slice(0, ANSWER_TEXT_MAX)}…` : text;
}

function connectionOf(ex: Exchange): ConnectionInfo {
  const m = ex.message;
  const info: ConnectionInfo = {
    at: ex.receivedAt,
    port: ex.port,
    remote: plainAddress(ex.remote),
    type: m.type,
    answer: printable(ex.answer),
    answeredBy: ex.answeredBy,
  };
  if (m.type === "unknown") info.kind = m.kind;
  if (m.type === "error") info.kind = m.code;
  const ecuId = messageEcuId(m);
  if (ecuId) info.ecuId = ecuId;
  return info;
}

function inverterView(inv: InverterDevice): InverterView {
  const inferred = inferredLayoutOf(inv.typeCode, inv.channels.length);
  return {
    uid: inv.uid,
    model: inv.model,
    typeCode: inv.typeCode,
    online: inv.online,
    temperatureC: inv.temperatureC,
    acVoltageV: inv.acVoltageV,
    frequencyHz: inv.frequencyHz,
    energyTodayWh: inv.energyTodayMWh / 1000,
    missing: inv.missing,
    weak: inv.weak,
    channels: inv.channels.map((c) => ({
      powerW: c.powerW,
      dcVoltageV: c.dcVoltageV,
      dcCurrentA: c.dcCurrentA,
      energyTodayWh: c.energyTodayMWh / 1000,
      weak: c.weak,
    })),
    ...(inferred && { layoutInferred: inferred.typeCode }),
  };
}

/** Networks that are never the ECU's way here: the Supervisor's and Docker's default bridge. */
const CONTAINER_NETWORKS = [/^172\.30\.3[23]\./, /^172\.17\./];

/** Non-internal IPv4 addresses of this machine an ECU on the LAN could reach. */
export function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === "IPv4" && !a.internal)
    .map((a) => a.address)
    .filter((address) => !CONTAINER_NETWORKS.some((net) => net.test(address)));
}

const NO_HA: HomeAssistantSummary = {
  configured: false,
  connected: false,
  since: null,
  problem: null,
  lastPublishAt: null,
  devicesAnnounced: 0,
};

/**
 * What the status page shows: the devices as the registry holds them (so the page and Home
 * Assistant always agree) and what is the page's own — the traffic seen on each port and the
 * records the decoder kept raw. No I/O; the clock comes from `now`.
 */
export class StatusModel {
  private readonly now: () => number;
  private readonly listeningSince: number;
  private ports: number[] = [];
  private readonly lastOnPort = new Map<number, ConnectionInfo>();
  private readonly recent: ConnectionInfo[] = [];
  private readonly rawRecords = new Map<string, InverterView[]>();
  private readonly answered = { ema: 0, proxy: 0, lastBy: null as "ema" | "proxy" | null };

  constructor(private readonly config: StatusModelConfig) {
    this.now = config.now ?? Date.now;
    this.listeningSince = this.now();
  }

  /** The ports the proxy really listens on (known only after it started). */
  setPorts(ports: number[]): void {
    this.ports = [...ports];
  }

  /** Has anything connected since the start, or is any device known? (the first-run guide) */
  get seenTraffic(): boolean {
    return this.recent.length > 0 || this.config.devices.ecus.length > 0;
  }

  handleExchange(ex: Exchange): void {
    const info = connectionOf(ex);
    this.lastOnPort.set(ex.port, info);
    this.recent.unshift(info);
    if (this.recent.length > RECENT_LIMIT) this.recent.length = RECENT_LIMIT;
    if (ex.answeredBy === "ema" || ex.answeredBy === "proxy") {
      this.answered[ex.answeredBy]++;
      this.answered.lastBy = ex.answeredBy;
    }
    const m = ex.message;
    if (m.type !== "upload") return;
    const raw = m.inverters.filter((inv) => inv.problem !== undefined || inv.raw !== undefined);
    if (raw.length === 0 && !this.rawRecords.has(m.ecu.id)) return;
    this.rawRecords.set(
      m.ecu.id,
      raw.slice(0, RAW_RECORDS_MAX).map((inv) => ({
        uid: inv.uid,
        model: inv.model,
        typeCode: inv.typeCode,
        online: true,
        temperatureC: null,
        acVoltageV: null,
        frequencyHz: null,
        energyTodayWh: 0,
        missing: false,
        weak: false,
        channels: [],
        problem: inv.problem ?? "kept raw",
      })),
    );
    if (this.rawRecords.size > 100)
      this.rawRecords.delete(this.rawRecords.keys().next().value ?? "");
  }

  snapshot(): StatusSnapshot {
    const now = this.now();
    const devices = this.config.devices;
    const today = devices.today();
    const ecus = devices.ecus.map((ecu): EcuStatus => {
      const tracked = devices.inverters(ecu.id);
      const raw = this.rawRecords.get(ecu.id) ?? [];
      return {
        id: ecu.id,
        model: ecu.model ?? ecuModel(ecu.id),
        online: ecu.online,
        lastContactAt: ecu.lastContactAt,
        lastUploadAt: ecu.lastUploadAt,
        lastRoundTimestamp: ecu.lastRoundTimestamp,
        powerW: ecu.powerW,
        lifetimeEnergyKWh: ecu.lifetimeEnergyKWh,
        invertersOnline: ecu.invertersOnline,
        // The same numbers Home Assistant was sent (until the registry's midnight check,
        // at most checkIntervalMs after midnight, both still show yesterday's).
        energyTodayWh: ecu.energyTodayMWh / 1000,
        maxPowerTodayW: ecu.maxPowerTodayW,
        backlogRounds: ecu.backlogRounds,
        aheadRounds: ecu.aheadRounds,
        clockOffsetS: ecu.clock.offsetS,
        clockWrong: clockWrong(ecu.clock),
        series: ecu.todayRounds
          .filter(([ts, w]) => ts.startsWith(today) && w !== null)
          .map(([ts, w]) => ({ t: ts.slice(11, 16), w: w as number })),
        inverters: [
          ...tracked.map((inv) => {
            const view = inverterView(inv);
            if (this.config.control) view.control = this.config.control(inv.uid);
            return view;
          }),
          ...raw.filter((r) => !tracked.some((i) => i.uid === r.uid)),
        ],
        unknownKinds: [...ecu.unknownKinds],
      };
    });
    const ports: PortStatus[] = this.ports.map((port) => ({
      port,
      purpose: PORT_PURPOSE[port] ?? "ECU traffic",
      last: this.lastOnPort.get(port) ?? null,
    }));
    return {
      generatedAt: now,
      listeningSince: this.listeningSince,
      hostAddresses: this.config.hostAddresses?.() ?? lanAddresses(),
      homeAssistant: this.config.homeAssistant?.() ?? NO_HA,
      storage: this.config.devices.storageHealth,
      version: this.config.version,
      mode: this.config.mode,
      ema: this.emaStatus(),
      timezone: this.config.timezone,
      today,
      ports,
      recent: [...this.recent],
      ecus,
      captures: this.config.captures?.() ?? { count: 0, bytes: 0, maxBytes: 0 },
    };
  }

  private emaStatus(): EmaSummary {
    if (this.config.ema) return this.config.ema();
    // Without the forwarder's own stats: in forwarding mode an answer from the proxy means EMA
    // did not answer in time, so the latest answer's source tells whether EMA is reachable.
    const { ema, proxy, lastBy } = this.answered;
    const reachable =
      this.config.mode === "forwarding" && lastBy !== null ? lastBy === "ema" : null;
    return { reachable, answersFromEma: ema, answersFromProxy: proxy };
  }
}
