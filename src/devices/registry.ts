/**
 * Owns what the proxy knows about each ECU and inverter: takes each upload before the ECU is
 * answered (confirming it only once it is durable: store.ts), the other exchanges after the
 * answer, lets time pass (offline, midnight, stale devices), and tells its readers — the Home
 * Assistant publisher and the status page — what changed. A round is applied only once the
 * journal holds it, so no reader ever sees a counter a crash could take back; other changes
 * (offline, a new day, removals) go out once a snapshot holds them.
 */

import type { Logger } from "../log.js";
import { messageEcuId } from "../protocol/ecuId.js";
import type { UploadMessage } from "../protocol/types.js";
import type { Exchange } from "../proxy/exchange.js";
import type { UploadVerdict } from "../proxy/responder.js";
import { localDate } from "../zoneTime.js";
import type { DeviceLimits } from "./applyUpload.js";
import { type ChangeListener, type ChangeReason, DeviceChanges } from "./changes.js";
import { applyRound, precheck } from "./intake.js";
import {
  type DevicesState,
  type EcuDevice,
  emptyState,
  type InverterDevice,
  invertersOf,
} from "./model.js";
import { passTime } from "./passingTime.js";
import { type DeviceIds, forget } from "./stale.js";
import { finishMigration } from "./stateFile.js";
import type { StorageHealth } from "./storageHealth.js";
import { DeviceStore, type StoreOptions } from "./store.js";
import { trackedEcu } from "./tracked.js";
import { UploadLog } from "./uploadLog.js";

export type { DeviceLimits } from "./applyUpload.js";

/**
 * Contact times alone (polls, resent rounds) are saved at most this often, and at stop: they are
 * no counter, and a snapshot of a large state for each would wear an SD card for nothing.
 */
export const CONTACT_SAVE_MS = 15 * 60_000;

/** Unknown kinds kept per ECU; one is enough to ask for captures. */
const UNKNOWN_KINDS_MAX = 10;

/** `sync` and `maxJournalBytes` go to the store (store.ts): for the benchmark and tests. */
export interface DevicesConfig extends Pick<StoreOptions, "sync" | "maxJournalBytes"> {
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
  private readonly store: DeviceStore;
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
    this.store = new DeviceStore({ ...config, logger: this.log, now: this.now });
    this.store.monitor.onChange(() => this.touchAll("storage", true));
  }

  /** Whether the data directory takes writes (a problem sensor and the status page show it). */
  get storageHealth(): StorageHealth {
    return this.store.health;
  }

  /** Called with every change once it is on disk (and with everything at start). */
  onChange(listener: ChangeListener): void {
    this.changes.listen(listener);
  }

  start(): void {
    const loaded = this.store.load(() => {
      this.contactUnsaved = false;
      const taken = this.changes.take();
      return { state: this.state, done: () => taken && this.changes.deliver(taken, this.state) };
    });
    this.state = loaded.state;
    const replayed = this.store.replay(loaded.replay, (e) => this.takeUpload(e.u, e.t, e.c, true));
    this.running = true;
    if (loaded.migratedFrom || replayed > 0) {
      const dataDir = this.config.dataDir;
      const migrated = loaded.migratedFrom !== undefined;
      void this.store.snapshot().then((durable) => {
        if (durable && migrated) finishMigration(dataDir);
      });
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
    await this.store.snapshot();
    await this.store.close();
  }

  // ---- readers -------------------------------------------------------------------------------

  get ecus(): readonly EcuDevice[] {
    return Object.values(this.state.ecus);
  }

  ecu(id: string): EcuDevice | undefined {
    return this.state.ecus[id];
  }

  inverters(ecuId: string): readonly InverterDevice[] {
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
   * once the round is durable in the journal — the ECU deletes a round it sees confirmed — or
   * with the reason it must not be confirmed (dated ahead of the clock; storage failing; the
   * proxy stopping). The round is applied, and its readers told, only once it is durable.
   */
  async acceptUpload(upload: UploadMessage): Promise<UploadVerdict> {
    if (!this.running) return { confirm: false, reason: "the proxy is stopping" };
    const now = this.now();
    const { check, correctionS } = precheck(this.state, upload, now, this.config);
    if (check === "untracked") {
      // Answered as before but not tracked (max_ecus): nothing to keep.
      this.uploadLog.refused(upload.ecu.id);
      return { confirm: true };
    }
    if (check !== "new") {
      // Dated ahead (refused: the ECU keeps it, and its clock learns from it), or counted
      // before, hence durable already.
      this.takeUpload(upload, now, correctionS);
      return check === "ahead"
        ? { confirm: false, reason: "round dated ahead of the clock" }
        : { confirm: true };
    }
    let seq: number;
    try {
      seq = await this.store.commit(upload, now, correctionS);
    } catch (err) {
      this.store.monitor.refusedRound();
      return { confirm: false, reason: `storage failing (${(err as Error).message})` };
    }
    this.takeUpload(upload, now, correctionS);
    this.store.applied(seq);
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
    const passed = passTime(this.state, this.now(), this.config, this.canRemoveStale(), this.log);
    if (passed.newDay) this.touchAll("midnight");
    for (const { ecu, inverters } of passed.offline) this.changes.mark("offline", [ecu], inverters);
    if (passed.removed.ecus.length + passed.removed.inverters.length > 0)
      this.noteRemoved(passed.removed);
    const contactsDue = this.contactUnsaved && this.store.snapshotAgeMs >= CONTACT_SAVE_MS;
    if (this.changes.waiting || contactsDue) this.persist();
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The ECU's record, or undefined (logged) when max_ecus leaves no room for it. */
  private ecuFor(id: string, uploading: boolean): EcuDevice | undefined {
    const ecu = trackedEcu(this.state, id, uploading, this.config.limits.maxEcus);
    if (!ecu) this.uploadLog.refused(id);
    return ecu;
  }

  private noteContact(ecu: EcuDevice, save = false): void {
    if (this.store.idle && !save) {
      this.contactUnsaved = true;
      this.changes.emitNow("contact", [ecu]);
      return;
    }
    // A snapshot is under way (or `save`): the ECU goes out with the next one, which holds it.
    this.changes.mark("contact", [ecu.id]);
    this.persist();
  }

  private noteRemoved(removed: DeviceIds): void {
    this.changes.remove(removed);
    this.persist();
  }

  /** Every device changed for `reason`; `now`: tell the readers at once, not after a snapshot. */
  private touchAll(reason: ChangeReason, now = false): void {
    if (now) this.changes.emitNow(reason, Object.values(this.state.ecus));
    else this.changes.mark(reason, Object.keys(this.state.ecus), Object.keys(this.state.inverters));
  }

  /**
   * Applies an upload (a durable one, or one that changes no counter) with the clock correction
   * it was judged with, and tells the readers; `replay`: from the journal at start, before any
   * reader listens — nothing logged again.
   */
  private takeUpload(upload: UploadMessage, now: number, correctionS?: number, replay = false) {
    const applied = applyRound(this.state, upload, now, this.config, correctionS);
    const { outcome, newDay, newEcu } = applied;
    if (newDay) this.touchAll("midnight");
    const ecu = this.state.ecus[upload.ecu.id];
    if (!outcome || !ecu) {
      if (!replay) this.uploadLog.refused(upload.ecu.id);
      return;
    }
    if (replay) return;
    this.uploadLog.report(upload, outcome, now, ecu.lifetimeEnergyKWh);
    const counted = outcome.freshness === "live" || outcome.count === "counted";
    if (!counted && !outcome.created && !newEcu) {
      // A round already taken, or refused: only the contact time moved — and maybe the learned
      // clock, saved at once then (a refused round is in no journal).
      this.noteContact(ecu, outcome.clockLearned !== undefined);
      return;
    }
    // The round is durable (journal) already: its readers are told now.
    const inverters = outcome.inverters.flatMap((uid) => this.state.inverters[uid] ?? []);
    this.changes.emitNow("round", [ecu], inverters);
  }

  /** Writes a snapshot; once written, the readers are told what it holds (SnapshotRender). */
  private persist(): void {
    void this.store.snapshot();
  }
}
