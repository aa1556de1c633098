/**
 * Owns what the proxy knows about each ECU and inverter: takes every exchange the TCP server
 * reports (after the ECU was answered), lets time pass (offline, midnight, stale devices), keeps
 * the one state file, and tells its readers — the Home Assistant publisher and the status page —
 * what changed, only once the file holds it (Home Assistant never sees a counter a crash could
 * take back).
 */

import { join } from "node:path";
import { AtomicFile } from "../atomicFile.js";
import type { Logger } from "../log.js";
import { messageEcuId } from "../protocol/ecuId.js";
import type { UploadMessage } from "../protocol/types.js";
import type { Exchange } from "../proxy/exchange.js";
import { ecuTimestampToEpoch, localDate } from "../zoneTime.js";
import { applyUpload, type DeviceLimits, type UploadOutcome } from "./applyUpload.js";
import { CONFIRM_ROUNDS } from "./lifetime.js";
import { rollover } from "./midnight.js";
import {
  type DevicesState,
  type EcuDevice,
  emptyState,
  type InverterDevice,
  invertersOf,
  newEcu,
} from "./model.js";
import { expireOffline } from "./offline.js";
import { type DeviceIds, findStale, forget } from "./stale.js";
import { finishMigration, loadState, STATE_FILE } from "./stateFile.js";

export type { DeviceLimits } from "./applyUpload.js";

/** Unknown kinds kept per ECU; one is enough to ask for captures. */
const UNKNOWN_KINDS_MAX = 10;
/** ECU ids refused for max_ecus that are logged by name; later ones are only counted. */
const REFUSED_IDS_LOGGED = 100;
/** One line per ECU and kind of doubt at most this often (a LAN host can send thousands). */
const DOUBT_LOG_INTERVAL_MS = 10 * 60_000;

export interface DevicesConfig {
  dataDir: string;
  /** IANA zone of the ECUs' clocks. */
  zone: string;
  /** Option offline_after_minutes, ms: also the window in which a round counts as live. */
  offlineAfterMs: number;
  /** Option remove_stale_devices_after_days, ms; 0: never. */
  staleAfterMs: number;
  limits: DeviceLimits;
  /** Option weak_panel_percent ÷ 100. */
  weakRatio: number;
  logger: Logger;
  /** Clock (epoch ms); tests inject one to cross midnight or the offline limit. */
  now?: () => number;
  /** How often the offline / midnight / stale-device check runs (default 30 s). */
  checkIntervalMs?: number;
}

export type ChangeReason = "round" | "contact" | "offline" | "midnight" | "removed" | "start";

/** What changed, as the state file holds it (copies: later rounds do not alter them). */
export interface DeviceChange {
  reasons: ChangeReason[];
  ecus: EcuDevice[];
  inverters: InverterDevice[];
  removed: DeviceIds;
}

export type ChangeListener = (change: DeviceChange) => void;

interface Pending {
  reasons: Set<ChangeReason>;
  ecus: Set<string>;
  inverters: Set<string>;
  removed: DeviceIds;
}

function noPending(): Pending {
  return {
    reasons: new Set(),
    ecus: new Set(),
    inverters: new Set(),
    removed: { ecus: [], inverters: [] },
  };
}

export class DeviceRegistry {
  private state: DevicesState = emptyState();
  private readonly file: AtomicFile;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly listeners: ChangeListener[] = [];
  private pending = noPending();
  private readonly written: DeviceChange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Contact times moved since the last write: saved by the next write or the periodic check. */
  private contactUnsaved = false;
  private readonly refusedIds = new Set<string>();
  private refusedCount = 0;
  private readonly doubtLoggedAt = new Map<string, number>();
  /** Removal must reach Home Assistant: the owner says when it can (broker connected). */
  canRemoveStale: () => boolean = () => true;

  constructor(private readonly config: DevicesConfig) {
    this.log = config.logger.child({ module: "devices" });
    this.now = config.now ?? Date.now;
    this.file = new AtomicFile(join(config.dataDir, STATE_FILE), {
      onError: (err, what) => this.log.error({ err }, `cannot ${what} the state file`),
      mode: 0o600,
    });
  }

  /** Called with every change once it is on disk (and with everything at start). */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  start(): void {
    const loaded = loadState(this.config.dataDir, this.log, this.now());
    this.state = loaded.state;
    this.running = true;
    if (loaded.migratedFrom) {
      const dataDir = this.config.dataDir;
      void this.file.write(() => JSON.stringify(this.state)).then(() => finishMigration(dataDir));
    }
    this.check();
    this.timer = setInterval(() => {
      try {
        this.check();
      } catch (err) {
        this.log.error({ err }, "periodic check failed");
      }
    }, this.config.checkIntervalMs ?? 30_000);
    this.timer.unref();
  }

  /** Saves everything (contact times too) and waits until it is on disk. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.persist();
    await this.file.flush();
  }

  // ---- readers -------------------------------------------------------------------------------

  get ecus(): readonly EcuDevice[] {
    return Object.values(this.state.ecus);
  }

  ecu(id: string): EcuDevice | undefined {
    return this.state.ecus[id];
  }

  inverters(ecuId: string): InverterDevice[] {
    return invertersOf(this.state, ecuId);
  }

  get allInverters(): readonly InverterDevice[] {
    return Object.values(this.state.inverters);
  }

  /** `YYYY-MM-DD` in the configured zone: the day "today" counters belong to. */
  today(): string {
    return localDate(this.now(), this.config.zone);
  }

  /** The state file is written: what readers were told is what it holds. */
  get settled(): boolean {
    return this.file.idle;
  }

  // ---- inputs --------------------------------------------------------------------------------

  /** Never throws and never waits: disk work happens in the background. */
  handleExchange(exchange: Exchange): void {
    if (!this.running) return;
    try {
      const message = exchange.message;
      if (message.type === "upload") {
        this.takeUpload(message);
        return;
      }
      const ecuId = messageEcuId(message);
      if (ecuId === undefined) return;
      const ecu = this.ecuFor(ecuId, false);
      if (!ecu) return;
      ecu.lastContactAt = this.now();
      if (message.type === "unknown" && !ecu.unknownKinds.includes(message.kind)) {
        if (ecu.unknownKinds.length < UNKNOWN_KINDS_MAX) ecu.unknownKinds.push(message.kind);
        this.pending.ecus.add(ecuId);
        this.pending.reasons.add("contact");
        this.persist();
        return;
      }
      this.noteContact(ecu);
    } catch (err) {
      this.log.error({ err }, "cannot apply exchange");
    }
  }

  /** Forgets devices (Home Assistant deleted them); they return with their next upload. */
  forget(ids: DeviceIds): DeviceIds {
    const removed = forget(this.state, { ecus: [...ids.ecus], inverters: [...ids.inverters] });
    if (removed.ecus.length + removed.inverters.length > 0) this.noteRemoved(removed);
    return removed;
  }

  /** Runs the periodic check now (tests, and after a clock jump). */
  check(): void {
    const now = this.now();
    const previousDay = this.state.day;
    if (rollover(this.state, localDate(now, this.config.zone))) {
      this.log.info(
        { from: previousDay, to: this.state.day },
        "new day: energy-today counters reset",
      );
      this.touchAll("midnight");
    }
    for (const id of expireOffline(this.state, now, this.config.offlineAfterMs)) {
      this.log.info(
        { ecu: id, minutes: this.config.offlineAfterMs / 60_000 },
        "no upload: ECU offline",
      );
      this.pending.ecus.add(id);
      for (const inv of invertersOf(this.state, id)) this.pending.inverters.add(inv.uid);
      this.pending.reasons.add("offline");
    }
    if (this.config.staleAfterMs > 0 && this.canRemoveStale()) {
      const removed = forget(this.state, findStale(this.state, now, this.config.staleAfterMs));
      if (removed.ecus.length + removed.inverters.length > 0) {
        this.log.info(removed, "removed devices not seen for remove_stale_devices_after_days");
        this.noteRemoved(removed);
      }
    }
    if (this.pending.reasons.size > 0 || this.contactUnsaved) this.persist();
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * The record of an ECU, made when there is room. An upload may take the place of an ECU known
   * only from polls (no model), so that made-up polls cannot lock a real ECU out.
   */
  private ecuFor(id: string, uploading: boolean): EcuDevice | undefined {
    const known = this.state.ecus[id];
    if (known) return known;
    const ecus = Object.values(this.state.ecus);
    if (ecus.length >= this.config.limits.maxEcus) {
      const spare = uploading ? ecus.find((e) => e.model === null) : undefined;
      if (!spare) {
        this.noteRefused(id);
        return undefined;
      }
      delete this.state.ecus[spare.id];
    }
    const ecu = newEcu(id);
    this.state.ecus[id] = ecu;
    return ecu;
  }

  private noteRefused(id: string): void {
    if (this.refusedIds.has(id)) return;
    this.refusedCount += 1;
    if (this.refusedIds.size < REFUSED_IDS_LOGGED) {
      this.refusedIds.add(id);
      this.log.warn(
        { ecu: id, maxEcus: this.config.limits.maxEcus, refused: this.refusedCount },
        `ECU ${id} not tracked: max_ecus (${this.config.limits.maxEcus}) reached — answered, not published; raise max_ecus or set allowed_ecu_ids`,
      );
    }
  }

  private noteContact(ecu: EcuDevice): void {
    if (this.file.idle) {
      this.contactUnsaved = true;
      this.emit({
        reasons: ["contact"],
        ecus: [structuredClone(ecu)],
        inverters: [],
        removed: { ecus: [], inverters: [] },
      });
    } else {
      // A write is under way: its change will carry this ECU as written.
      this.pending.ecus.add(ecu.id);
      this.pending.reasons.add("contact");
    }
  }

  private noteRemoved(removed: DeviceIds): void {
    this.pending.removed.ecus.push(...removed.ecus);
    this.pending.removed.inverters.push(...removed.inverters);
    for (const id of removed.ecus) this.pending.ecus.delete(id);
    for (const uid of removed.inverters) this.pending.inverters.delete(uid);
    this.pending.reasons.add("removed");
    this.persist();
  }

  private touchAll(reason: ChangeReason): void {
    for (const id of Object.keys(this.state.ecus)) this.pending.ecus.add(id);
    for (const uid of Object.keys(this.state.inverters)) this.pending.inverters.add(uid);
    this.pending.reasons.add(reason);
  }

  private takeUpload(upload: UploadMessage): void {
    const now = this.now();
    const today = localDate(now, this.config.zone);
    if (rollover(this.state, today)) this.touchAll("midnight");
    const id = upload.ecu.id;
    if (!this.state.ecus[id] && !this.ecuFor(id, true)) return;
    const outcome = applyUpload(this.state, upload, {
      nowMs: now,
      today,
      roundAtMs: ecuTimestampToEpoch(upload.ecu.timestamp, this.config.zone),
      liveWindowMs: this.config.offlineAfterMs,
      limits: { ...this.config.limits, maxEcus: Number.POSITIVE_INFINITY },
      weakRatio: this.config.weakRatio,
    });
    this.report(upload, outcome, now);
    const ecu = this.state.ecus[id];
    if (!ecu) return;
    if (outcome.freshness !== "live" && outcome.count !== "counted" && !outcome.created) {
      // A round already taken, or refused: only the contact time moved.
      this.noteContact(ecu);
      return;
    }
    this.pending.ecus.add(id);
    for (const uid of outcome.inverters) this.pending.inverters.add(uid);
    this.pending.reasons.add("round");
    this.persist();
  }

  /** Log lines for what the outcome doubts; each kind at most once per interval and ECU. */
  private report(upload: UploadMessage, outcome: UploadOutcome, now: number): void {
    const ecu = outcome.ecuId;
    const ts = upload.ecu.timestamp;
    const doubt = (kind: string, level: "info" | "warn", fields: object, msg: string): void => {
      const key = `${ecu}/${kind}`;
      const last = this.doubtLoggedAt.get(key);
      if (last !== undefined && now - last < DOUBT_LOG_INTERVAL_MS) return;
      if (this.doubtLoggedAt.size > 1000) this.doubtLoggedAt.clear();
      this.doubtLoggedAt.set(key, now);
      this.log[level]({ ecu, timestamp: ts, ...fields }, msg);
    };
    const offsetMin = Math.round((ecuTimestampToEpoch(ts, this.config.zone) - now) / 60_000);
    if (outcome.freshness === "ahead") {
      doubt(
        "ahead",
        "warn",
        { minutesAhead: offsetMin, zone: this.config.zone },
        `round dated ${offsetMin} min ahead of the clock in ${this.config.zone}: refused (if every round says this, check the timezone option)`,
      );
    } else if (outcome.freshness === "backlog") {
      doubt(
        "backlog",
        "info",
        { minutesOld: -offsetMin, counted: outcome.count === "counted" },
        `round from ${-offsetMin} min ago (backlog): counted toward energy, not shown as live`,
      );
    }
    if (outcome.powerRefused) {
      doubt(
        "power",
        "warn",
        outcome.powerRefused,
        `ECU power ${outcome.powerRefused.powerW} W is beyond what its inverters can deliver (${outcome.powerRefused.maxW} W): shown as unknown`,
      );
    }
    for (const { uid, reason } of outcome.implausible) {
      doubt(
        `record/${uid}`,
        "warn",
        { inverter: uid },
        `inverter ${uid}: ${reason}; record ignored`,
      );
    }
    for (const { uid, wh, maxWh } of outcome.energyRefused) {
      doubt(
        `energy/${uid}`,
        "warn",
        { inverter: uid, wh, maxWh },
        `inverter ${uid}: round energy ${wh} Wh is more than it can produce in the round (${Math.round(maxWh)} Wh); not counted`,
      );
    }
    if (outcome.overLimit.length > 0) {
      doubt(
        "inverters",
        "warn",
        { notTracked: outcome.overLimit.length, max: this.config.limits.maxInvertersPerEcu },
        `ECU ${ecu} names more inverters than max_inverters_per_ecu (${this.config.limits.maxInvertersPerEcu}): ${outcome.overLimit.length} not tracked`,
      );
    }
    if (outcome.count === "too_old") {
      doubt("too_old", "info", {}, "round older than the counting window (2 days): not counted");
    }
    const lifetime = outcome.lifetime;
    if (lifetime && !lifetime.taken) {
      doubt(
        "lifetime",
        "warn",
        { ...lifetime },
        `lifetime energy ${lifetime.heldKWh} kWh does not follow ${lifetime.acceptedKWh} kWh (at most +${lifetime.allowedKWh.toFixed(1)} kWh possible): held back until ${CONFIRM_ROUNDS} rounds in a row confirm it`,
      );
    } else if (lifetime?.change) {
      this.log.warn(
        { ecu, from: lifetime.fromKWh, to: this.state.ecus[ecu]?.lifetimeEnergyKWh },
        lifetime.change === "reset"
          ? `lifetime energy counter restarted (confirmed by ${CONFIRM_ROUNDS} rounds): following it`
          : `lifetime energy counter jumped (confirmed by ${CONFIRM_ROUNDS} rounds): following it`,
      );
    }
    this.log.debug(
      { ecu, timestamp: ts, freshness: outcome.freshness, count: outcome.count },
      "upload applied",
    );
  }

  /** Writes the state; once written, tells the listeners what changed, as written. */
  private persist(): void {
    this.contactUnsaved = false;
    void this.file
      .write(() => {
        const p = this.pending;
        this.pending = noPending();
        if (p.reasons.size > 0) {
          this.written.push({
            reasons: [...p.reasons],
            ecus: [...p.ecus].flatMap((id) => {
              const e = this.state.ecus[id];
              return e ? [structuredClone(e)] : [];
            }),
            inverters: [...p.inverters].flatMap((uid) => {
              const inv = this.state.inverters[uid];
              return inv ? [structuredClone(inv)] : [];
            }),
            removed: p.removed,
          });
        }
        return JSON.stringify(this.state);
      })
      .then(() => {
        for (const change of this.written.splice(0)) this.emit(change);
      });
  }

  private emit(change: DeviceChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err }, "a reader of device changes failed");
      }
    }
  }
}
