import { ecuModel } from "../protocol/models.js";
import type { Inverter, UploadMessage } from "../protocol/types.js";
import { exchangeEcuId } from "../proxy/allowList.js";
import type { Exchange } from "../proxy/exchange.js";
import { plainAddress } from "./access.js";
import { TodaySeries } from "./today.js";
import type {
  CaptureSummary,
  ConnectionInfo,
  EcuStatus,
  EmaSummary,
  InverterStatus,
  Mode,
  PortStatus,
  StatusSnapshot,
} from "./types.js";

/** How many exchanges the page lists. */
export const RECENT_LIMIT = 20;
/** Unknown kinds listed per ECU; one is enough to ask for captures. */
const UNKNOWN_KINDS_MAX = 10;
/** Longest answer text shown; answers are at most ~60 bytes today, this bounds unknown ones. */
const ANSWER_TEXT_MAX = 120;

const PORT_PURPOSE: Record<number, string> = {
  8995: "uploads",
  8996: "uploads",
  8997: "control",
  9220: "WiFi-module OTA",
};

export interface StatusModelConfig {
  mode: Mode;
  timezone: string;
  version: string;
  now?: () => number;
  /** Stats of the EMA forwarder, when one runs; otherwise they are counted from exchanges. */
  ema?: () => EmaSummary;
  captures?: () => CaptureSummary;
  /** Option allowed_ecu_ids: other ECUs appear among the exchanges, but get no card. */
  allowedEcuIds?: readonly string[];
  /** Today's energy per ECU, Wh: the Home Assistant bridge's counter, so page and HA agree. */
  energyToday?: (ecuId: string) => number | undefined;
}

export interface SavedStatus {
  version: 1;
  ecus: Array<Omit<EcuStatus, "energyTodayWh" | "series">>;
  today: unknown;
}

function isSavedStatus(value: unknown): value is SavedStatus {
  const v = value as Partial<SavedStatus> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    v.version === 1 &&
    Array.isArray(v.ecus) &&
    v.ecus.every(
      (e) => typeof e?.id === "string" && typeof e.model === "string" && Array.isArray(e.inverters),
    )
  );
}

interface EcuLive extends Omit<EcuStatus, "energyTodayWh" | "series" | "inverters"> {
  inverters: Map<string, InverterStatus>;
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
  const ecuId = exchangeEcuId(ex);
  if (ecuId) info.ecuId = ecuId;
  return info;
}

function inverterStatus(inv: Inverter): InverterStatus {
  const status: InverterStatus = {
    uid: inv.uid,
    model: inv.model,
    typeCode: inv.typeCode,
    online: true,
    temperatureC: inv.temperatureC ?? null,
    acVoltageV: inv.acVoltageV ?? null,
    frequencyHz: inv.frequencyHz ?? null,
    channels: inv.channels.map((c) => ({
      powerW: c.powerW,
      dcVoltageV: c.dcVoltageV,
      dcCurrentA: c.dcCurrentA,
    })),
  };
  if (inv.problem !== undefined) status.problem = inv.problem;
  return status;
}

/**
 * What the status page shows, built from the exchanges the proxy server reports. No I/O: the
 * owner persists today's counters (`today`) and the clock comes from `now`.
 */
export class StatusModel {
  readonly today: TodaySeries;
  private readonly now: () => number;
  private ports: number[] = [];
  private readonly lastOnPort = new Map<number, ConnectionInfo>();
  private readonly recent: ConnectionInfo[] = [];
  private readonly ecus = new Map<string, EcuLive>();
  private readonly answered = { ema: 0, proxy: 0, lastBy: null as "ema" | "proxy" | null };
  private readonly changeListeners: Array<() => void> = [];

  constructor(private readonly config: StatusModelConfig) {
    this.now = config.now ?? Date.now;
    this.today = new TodaySeries(config.timezone);
  }

  /** The ports the proxy really listens on (known only after it started). */
  setPorts(ports: number[]): void {
    this.ports = [...ports];
  }

  /** Called after every upload, so the owner can save `toJSON()`. */
  onUpload(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * What survives a restart: the ECUs and inverters as last seen and today's counters. Without
   * it a restart at night would show the first-run guide until the ECU's first morning upload.
   */
  toJSON(): SavedStatus {
    const ecus = [...this.ecus.values()].map(({ inverters, ...ecu }) => ({
      ...ecu,
      inverters: [...inverters.values()],
    }));
    return { version: 1, ecus, today: this.today.toJSON() };
  }

  /** Takes back what `toJSON()` saved; returns false (and keeps nothing) for a damaged file. */
  restore(saved: unknown, nowMs: number): boolean {
    if (!isSavedStatus(saved)) return false;
    for (const { inverters, ...ecu } of saved.ecus) {
      this.ecus.set(ecu.id, {
        ...ecu,
        unknownKinds: Array.isArray(ecu.unknownKinds) ? ecu.unknownKinds : [],
        inverters: new Map(inverters.map((i) => [i.uid, i])),
      });
    }
    this.today.restore(saved.today, nowMs);
    return true;
  }

  /** Has anything connected since the start? The page's first-run guide depends on it. */
  get seenTraffic(): boolean {
    return this.recent.length > 0 || this.ecus.size > 0;
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
    const ecuId = exchangeEcuId(ex);
    if (!ecuId || !this.allowed(ecuId)) return;
    const ecu = this.ecu(ecuId);
    ecu.lastContactAt = ex.receivedAt;
    const m = ex.message;
    if (m.type === "upload") this.takeUpload(ecu, m, ex.receivedAt);
    if (m.type === "unknown" && !ecu.unknownKinds.includes(m.kind)) {
      if (ecu.unknownKinds.length < UNKNOWN_KINDS_MAX) ecu.unknownKinds.push(m.kind);
    }
  }

  snapshot(): StatusSnapshot {
    const now = this.now();
    const ecus = [...this.ecus.values()].map(
      ({ inverters, ...ecu }): EcuStatus => ({
        ...ecu,
        energyTodayWh: this.config.energyToday?.(ecu.id) ?? null,
        series: this.today.series(ecu.id, now),
        inverters: [...inverters.values()],
      }),
    );
    const ports: PortStatus[] = this.ports.map((port) => ({
      port,
      purpose: PORT_PURPOSE[port] ?? "ECU traffic",
      last: this.lastOnPort.get(port) ?? null,
    }));
    return {
      generatedAt: now,
      version: this.config.version,
      mode: this.config.mode,
      ema: this.emaStatus(),
      timezone: this.config.timezone,
      today: this.today.roll(now),
      ports,
      recent: [...this.recent],
      ecus,
      captures: this.config.captures?.() ?? { count: 0, bytes: 0, maxBytes: 0 },
    };
  }

  private allowed(ecuId: string): boolean {
    const list = this.config.allowedEcuIds;
    return !list || list.length === 0 || list.includes(ecuId);
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

  private ecu(id: string): EcuLive {
    let ecu = this.ecus.get(id);
    if (!ecu) {
      ecu = {
        id,
        model: ecuModel(id),
        lastContactAt: null,
        lastUploadAt: null,
        lastRoundTimestamp: null,
        powerW: null,
        lifetimeEnergyKWh: null,
        invertersOnline: null,
        inverters: new Map(),
        unknownKinds: [],
      };
      this.ecus.set(id, ecu);
    }
    return ecu;
  }

  private takeUpload(ecu: EcuLive, upload: UploadMessage, receivedAt: number): void {
    ecu.model = upload.ecu.model;
    const ts = upload.ecu.timestamp;
    // Live values follow only the newest round: old rounds arrive again after outages (§5–6).
    // Fixed-width `YYYY-MM-DDTHH:mm:ss` strings sort like the times they name.
    if (ecu.lastRoundTimestamp === null || ts > ecu.lastRoundTimestamp) {
      ecu.lastRoundTimestamp = ts;
      ecu.lastUploadAt = receivedAt;
      ecu.powerW = upload.ecu.powerW;
      ecu.lifetimeEnergyKWh = upload.ecu.lifetimeEnergyKWh;
      ecu.invertersOnline = upload.ecu.invertersOnline;
      const reported = new Set<string>();
      for (const inv of upload.inverters) {
        ecu.inverters.set(inv.uid, inverterStatus(inv));
        reported.add(inv.uid);
      }
      // Not in the newest round: the inverter is off (night, or a fault) — it produces nothing.
      for (const inv of ecu.inverters.values()) {
        if (reported.has(inv.uid)) continue;
        inv.online = false;
        inv.temperatureC = null;
        inv.channels = inv.channels.map((c) => ({ ...c, powerW: 0 }));
      }
    }
    // A round of unknown power (implausible header, protocol/headerPower.ts) gets no point.
    if (upload.ecu.powerW !== null) this.today.addRound(ecu.id, ts, upload.ecu.powerW, receivedAt);
    for (const listener of this.changeListeners) listener();
  }
}
