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
import type { UploadVerdict } from "../proxy/responder.js";
import { ecuTimestampToEpoch, localDate } from "../zoneTime.js";
import { applyUpload, type DeviceLimits, type UploadOutcome } from "./applyUpload.js";
import { type ChangeListener, type ChangeReason, DeviceChanges, type Taken } from "./changes.js";
import { rollover } from "./midnight.js";
import {
  type DevicesState,
  type EcuDevice,
  emptyState,
  type InverterDevice,
  invertersOf,
} from "./model.js";
import { expireOffline } from "./offline.js";
import { type DeviceIds, findStale, forget } from "./stale.js";
import { finishMigration, loadState, STATE_FILE } from "./stateFile.js";
import { trackedEcu } from "./tracked.js";
import { UploadLog } from "./uploadLog.js";

export type { DeviceLimits } from "./applyUpload.js";

/** Unknown kinds kept per ECU; one is enough to ask for captures. */
const UNKNOWN_KINDS_MAX = 10;

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

export class DeviceRegistry {
  private state: DevicesState = emptyState();
  private readonly file: AtomicFile;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly changes: DeviceChanges;
  private readonly uploadLog: UploadLog;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Contact times moved since the last write: saved by the next write or the periodic check. */
  private contactUnsaved = false;
  /** Removal must reach Home Assistant: the owner says when it can (broker connected). */
  canRemoveStale: () => boolean = () => true;

  constructor(private readonly config: DevicesConfig) {
    this.log = config.logger.child({ module: "devices" });
    this.now = config.now ?? Date.now;
    this.changes = new DeviceChanges(this.log);
    this.uploadLog = new UploadLog(this.log, config.limits, config.zone);
    this.file = new AtomicFile(join(config.dataDir, STATE_FILE), {
      onError: (err, what) => this.log.error({ err }, `cannot ${what} the state file`),
      mode: 0o600,
    });
  }

  /** Called with every change once it is on disk (and with everything at start). */
  onChange(listener: ChangeListener): void {
    this.changes.listen(listener);
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

  // ---- inputs --------------------------------------------------------------------------------

  /**
   * Takes one upload (the server's responder calls this before it answers): resolves `confirm`
   * once the round is on disk — the ECU deletes a round it sees confirmed — or with the reason
   * the round must not be confirmed (dated ahead of the clock; the proxy stopping).
   */
  async acceptUpload(upload: UploadMessage): Promise<UploadVerdict> {
    if (!this.running) return { confirm: false, reason: "the proxy is stopping" };
    const taken = this.takeUpload(upload, this.now());
    if (taken.outcome?.freshness === "ahead") {
      return { confirm: false, reason: "round dated ahead of the clock" };
    }
    await taken.written;
    return { confirm: true };
  }

  /** Exchanges other than uploads (those come through acceptUpload): contacts, unknown kinds. */
  handleExchange(exchange: Exchange): void {
    if (!this.running) return;
    try {
      const message = exchange.message;
      if (message.type === "upload") return;
      const ecuId = messageEcuId(message);
      if (ecuId === undefined) return;
      const ecu = this.ecuFor(ecuId, false);
      if (!ecu) return;
      ecu.lastContactAt = this.now();
      if (message.type === "unknown" && !ecu.unknownKinds.includes(message.kind)) {
        if (ecu.unknownKinds.length < UNKNOWN_KINDS_MAX) ecu.unknownKinds.push(message.kind);
        this.changes.mark("contact", [ecuId]);
        this.persist();
        return;
      }
      void this.noteContact(ecu);
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
      const inverters = invertersOf(this.state, id).map((inv) => inv.uid);
      this.changes.mark("offline", [id], inverters);
    }
    if (this.config.staleAfterMs > 0 && this.canRemoveStale()) {
      const removed = forget(this.state, findStale(this.state, now, this.config.staleAfterMs));
      if (removed.ecus.length + removed.inverters.length > 0) {
        this.log.info(removed, "removed devices not seen for remove_stale_devices_after_days");
        this.noteRemoved(removed);
      }
    }
    if (this.changes.waiting || this.contactUnsaved) this.persist();
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The ECU's record, or undefined (logged) when max_ecus leaves no room for it. */
  private ecuFor(id: string, uploading: boolean): EcuDevice | undefined {
    const ecu = trackedEcu(this.state, id, uploading, this.config.limits.maxEcus);
    if (!ecu) this.uploadLog.refused(id);
    return ecu;
  }

  /** Resolves once the state on disk holds everything before this contact (counters too). */
  private noteContact(ecu: EcuDevice): Promise<void> {
    if (this.file.idle) {
      this.contactUnsaved = true;
      this.changes.emit({
        reasons: ["contact"],
        ecus: [ecu],
        inverters: [],
        removed: { ecus: [], inverters: [] },
      });
      return Promise.resolve();
    }
    // A write is under way: the ECU goes out with the next one, which holds it as it is now.
    this.changes.mark("contact", [ecu.id]);
    return this.persist();
  }

  private noteRemoved(removed: DeviceIds): void {
    this.changes.remove(removed);
    this.persist();
  }

  private touchAll(reason: ChangeReason): void {
    this.changes.mark(reason, Object.keys(this.state.ecus), Object.keys(this.state.inverters));
  }

  /**
   * Applies an upload; `written` resolves once a write holding it is on disk (none is needed
   * when nothing but contact times moved, or the ECU is not tracked).
   */
  private takeUpload(
    upload: UploadMessage,
    now: number,
  ): { outcome?: UploadOutcome; written?: Promise<void> } {
    const today = localDate(now, this.config.zone);
    if (rollover(this.state, today)) this.touchAll("midnight");
    const id = upload.ecu.id;
    const isNew = this.state.ecus[id] === undefined;
    if (isNew && !this.ecuFor(id, true)) return {};
    const outcome = applyUpload(this.state, upload, {
      nowMs: now,
      today,
      roundAtMs: ecuTimestampToEpoch(upload.ecu.timestamp, this.config.zone),
      liveWindowMs: this.config.offlineAfterMs,
      maxInvertersPerEcu: this.config.limits.maxInvertersPerEcu,
      weakRatio: this.config.weakRatio,
    });
    const ecu = this.state.ecus[id];
    this.uploadLog.report(upload, outcome, now, ecu?.lifetimeEnergyKWh);
    if (!ecu) return { outcome };
    if (outcome.freshness !== "live" && outcome.count !== "counted" && !outcome.created && !isNew) {
      // A round already taken, or refused: only the contact time moved.
      return { outcome, written: this.noteContact(ecu) };
    }
    this.changes.mark("round", [id], outcome.inverters);
    return { outcome, written: this.persist() };
  }

  /**
   * Writes the state; once written, tells the listeners what changed, as written. Resolves when
   * that write is done.
   */
  private persist(): Promise<void> {
    this.contactUnsaved = false;
    // Coalesced writes render once, with the newest caller's function: the caller whose
    // function rendered delivers what that write took.
    let taken: Taken | undefined;
    return this.file
      .write(() => {
        taken = this.changes.take();
        return JSON.stringify(this.state);
      })
      .then(() => {
        if (taken) this.changes.deliver(taken, this.state);
      });
  }
}
