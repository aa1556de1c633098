/**
 * The registry's changes on their way to its readers (the Home Assistant publisher, the status
 * page). What changed since the last write is collected by id (`pending`); the write takes the
 * ids when it renders the state (`take`), and only once that write is on disk are the listeners
 * told (`deliver`), so no reader sees a counter a crash could take back. A device changed again
 * meanwhile is left to the next write (already due), which holds its newer values; every other
 * device's live record is then exactly what the file holds, so nothing is copied.
 */
import type { Logger } from "../log.js";
import type { DevicesState, EcuDevice, InverterDevice } from "./model.js";
import type { DeviceIds } from "./stale.js";

export type ChangeReason =
  | "round"
  | "contact"
  | "offline"
  | "midnight"
  | "removed"
  | "start"
  | "storage";

/**
 * What changed, as the state file holds it. The records are the registry's own: read them when
 * told, do not keep or change them.
 */
export interface DeviceChange {
  reasons: ChangeReason[];
  ecus: EcuDevice[];
  inverters: InverterDevice[];
  removed: DeviceIds;
}

export type ChangeListener = (change: DeviceChange) => void;

export interface Taken {
  reasons: ChangeReason[];
  ecus: string[];
  inverters: string[];
  removed: DeviceIds;
}

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
  private readonly written: Taken[] = [];
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

  /**
   * Called as the state is rendered for a write: what is pending goes with that write. The
   * token it returns is handed back to `deliver` once that write is on disk.
   */
  take(): Taken | undefined {
    const p = this.pending;
    this.pending = noPending();
    if (p.reasons.size === 0) return undefined;
    const taken: Taken = {
      reasons: [...p.reasons],
      ecus: [...p.ecus],
      inverters: [...p.inverters],
      removed: p.removed,
    };
    this.written.push(taken);
    return taken;
  }

  /**
   * Called once the write that took `taken` is on disk: tells the listeners what it holds. A
   * device changed since that write rendered — pending, or taken by a later write still under
   * way — is left to the write that holds its newer values.
   */
  deliver(taken: Taken, state: DevicesState): void {
    const at = this.written.indexOf(taken);
    if (at < 0) return;
    this.written.splice(at, 1);
    const later = this.written.slice(at);
    const changedSince = (kind: "ecus" | "inverters", id: string): boolean =>
      this.pending[kind].has(id) || later.some((t) => t[kind].includes(id));
    this.emit({
      reasons: taken.reasons,
      ecus: taken.ecus.flatMap((id) => {
        const ecu = state.ecus[id];
        return ecu && !changedSince("ecus", id) ? [ecu] : [];
      }),
      inverters: taken.inverters.flatMap((uid) => {
        const inv = state.inverters[uid];
        return inv && !changedSince("inverters", uid) ? [inv] : [];
      }),
      removed: taken.removed,
    });
  }

  /** Tells the readers now (the change is durable already, or holds no counter). */
  emitNow(reason: ChangeReason, ecus: EcuDevice[], inverters: InverterDevice[] = []): void {
    this.emit({ reasons: [reason], ecus, inverters, removed: { ecus: [], inverters: [] } });
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
