/**
 * The registry's changes on their way to its readers (the Home Assistant publisher, the status
 * page). What changed since the last write is collected by id (`pending`); the write copies it
 * as the state then holds it (`take`), and only once that write is on disk are the listeners
 * told (`deliver`), so no reader sees a counter a crash could take back.
 */
import type { Logger } from "../log.js";
import type { DevicesState, EcuDevice, InverterDevice } from "./model.js";
import type { DeviceIds } from "./stale.js";

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

export class DeviceChanges {
  /** What changed since the last write, by id. */
  private pending = noPending();
  private readonly written: DeviceChange[] = [];
  private readonly listeners: ChangeListener[] = [];

  constructor(private readonly log: Logger) {}

  listen(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Something waits for the next write. */
  get waiting(): boolean {
    return this.pending.reasons.size > 0;
  }

  /** ECUs and inverters changed for `reason`: the next write carries them. */
  mark(reason: ChangeReason, ecus: Iterable<string>, inverters: Iterable<string> = []): void {
    for (const id of ecus) this.pending.ecus.add(id);
    for (const uid of inverters) this.pending.inverters.add(uid);
    this.pending.reasons.add(reason);
  }

  /** Devices forgotten: the next write tells the readers, and no longer carries them. */
  remove(removed: DeviceIds): void {
    this.pending.removed.ecus.push(...removed.ecus);
    this.pending.removed.inverters.push(...removed.inverters);
    for (const id of removed.ecus) this.pending.ecus.delete(id);
    for (const uid of removed.inverters) this.pending.inverters.delete(uid);
    this.pending.reasons.add("removed");
  }

  /** Called as the state is written: copies what is pending as the state now holds it. */
  take(state: DevicesState): void {
    const p = this.pending;
    this.pending = noPending();
    if (p.reasons.size > 0) {
      this.written.push({
        reasons: [...p.reasons],
        ecus: [...p.ecus].flatMap((id) => {
          const e = state.ecus[id];
          return e ? [structuredClone(e)] : [];
        }),
        inverters: [...p.inverters].flatMap((uid) => {
          const inv = state.inverters[uid];
          return inv ? [structuredClone(inv)] : [];
        }),
        removed: p.removed,
      });
    }
  }

  /** Called once the write is on disk: tells the listeners what it holds. */
  deliver(): void {
    for (const change of this.written.splice(0)) this.emit(change);
  }

  emit(change: DeviceChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err }, "a reader of device changes failed");
      }
    }
  }
}
