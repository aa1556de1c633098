import { type ControlCommand, commandCode } from "../protocol/answers/controlCommand.js";

/**
 * What became of a command (issue 19): `queued` (waiting for the ECU's next poll), `pending`
 * (sent, not acknowledged), `confirmed` (acknowledged with result 0), `refused` (acknowledged
 * with another result digit), `not_delivered` (no poll, or no acknowledgement, in time).
 */
export type ControlStatus = "queued" | "pending" | "confirmed" | "refused" | "not_delivered";
export const CONTROL_STATUSES: readonly ControlStatus[] = [
  "queued",
  "pending",
  "confirmed",
  "refused",
  "not_delivered",
];

/** `on` and `power_limit` are the user's settings; `report` the proxy's own A117 request. */
export type Setting = "on" | "power_limit" | "report";

export interface ControlEntry {
  ecuId: string;
  /** The inverter, or null for all inverters of the ECU. */
  uid: string | null;
  setting: Setting;
  /** The setting's new value: on/off, or W. */
  value: boolean | number | null;
  command: ControlCommand;
  status: ControlStatus;
  queuedAt: number;
  sentAt?: number;
  /** The command's timestamp, which the ECU echoes in its acknowledgement (the match key). */
  timestamp?: string;
  /** The acknowledgement's result digit. */
  result?: string;
  detail?: string;
}

export interface QueueTimes {
  /** A command the ECU did not poll for within this is given up (`not_delivered`). */
  deliverWithinMs: number;
  /** A sent command not acknowledged within this is given up (`not_delivered`). */
  ackWithinMs: number;
  /** The 14-digit timestamp a command sent at `now` carries. */
  stamp: (now: number) => string;
}

const keyOf = (e: Pick<ControlEntry, "ecuId" | "uid" | "setting">) =>
  `${e.ecuId}/${e.uid ?? "all"}/${e.setting}`;

/**
 * The commands for each ECU, in the order asked, one per poll. A setting asked again before
 * its command went out replaces the waiting one in place (the newest value wins, nothing piles
 * up); so per inverter and setting there is at most one command waiting and one in flight,
 * however often an automation flaps.
 */
export class ControlQueue {
  private readonly waiting = new Map<string, ControlEntry[]>();
  private readonly inFlight = new Map<string, ControlEntry[]>();
  private readonly latest = new Map<string, ControlEntry>();
  private readonly lastStamp = new Map<string, string>();

  constructor(private readonly times: QueueTimes) {}

  /** The newest command of a setting, whatever became of it. */
  entry(ecuId: string, uid: string | null, setting: Setting): ControlEntry | undefined {
    return this.latest.get(keyOf({ ecuId, uid, setting }));
  }

  /** Commands waiting or in flight for an ECU. */
  open(ecuId: string): number {
    return (this.waiting.get(ecuId)?.length ?? 0) + (this.inFlight.get(ecuId)?.length ?? 0);
  }

  enqueue(
    request: Pick<ControlEntry, "ecuId" | "uid" | "setting" | "value" | "command">,
    now: number,
  ): { entry: ControlEntry; replaced: boolean } {
    const key = keyOf(request);
    const list = this.waiting.get(request.ecuId) ?? [];
    const entry: ControlEntry = { ...request, status: "queued", queuedAt: now };
    const at = list.findIndex((e) => keyOf(e) === key);
    if (at >= 0) list[at] = entry;
    else list.push(entry);
    this.waiting.set(request.ecuId, list);
    this.latest.set(key, entry);
    return { entry, replaced: at >= 0 };
  }

  /** The next command for an ECU that polls now, marked pending; undefined when none waits. */
  take(ecuId: string, now: number): ControlEntry | undefined {
    const entry = this.waiting.get(ecuId)?.shift();
    if (!entry) return undefined;
    entry.status = "pending";
    entry.sentAt = now;
    entry.timestamp = this.uniqueStamp(ecuId, now);
    const flying = this.inFlight.get(ecuId) ?? [];
    flying.push(entry);
    this.inFlight.set(ecuId, flying);
    return entry;
  }

  /** Applies an acknowledgement; undefined when it matches no command in flight. */
  acknowledge(
    ecuId: string,
    command: string,
    timestamp: string,
    result: string,
  ): ControlEntry | undefined {
    const flying = this.inFlight.get(ecuId) ?? [];
    const at = flying.findIndex(
      (e) => e.timestamp === timestamp && commandCode(e.command) === command,
    );
    const entry = flying[at];
    if (!entry) return undefined;
    flying.splice(at, 1);
    entry.result = result;
    entry.status = result === "0" ? "confirmed" : "refused";
    if (entry.status === "refused") entry.detail = `the ECU answered result ${result}`;
    return entry;
  }

  /** Gives up what waited or flew too long; returns what changed. */
  expire(now: number): ControlEntry[] {
    const changed: ControlEntry[] = [];
    const minutes = (ms: number) => Math.round(ms / 60_000);
    for (const [ecuId, list] of this.waiting) {
      const kept = list.filter((e) => now - e.queuedAt <= this.times.deliverWithinMs);
      for (const e of list.filter((x) => !kept.includes(x))) {
        e.status = "not_delivered";
        e.detail = `the ECU did not poll within ${minutes(this.times.deliverWithinMs)} minutes`;
        changed.push(e);
      }
      this.waiting.set(ecuId, kept);
    }
    for (const [ecuId, list] of this.inFlight) {
      const kept = list.filter((e) => now - (e.sentAt ?? now) <= this.times.ackWithinMs);
      for (const e of list.filter((x) => !kept.includes(x))) {
        e.status = "not_delivered";
        e.detail = "sent, but the ECU did not acknowledge it";
        changed.push(e);
      }
      this.inFlight.set(ecuId, kept);
    }
    return changed;
  }

  /**
   * Timestamps strictly increase per ECU, so two commands sent in one second still have
   * different match keys.
   */
  private uniqueStamp(ecuId: string, now: number): string {
    let stamp = this.times.stamp(now);
    const last = this.lastStamp.get(ecuId);
    if (last !== undefined && stamp <= last) {
      stamp = (BigInt(last) + 1n).toString().padStart(14, "0").slice(-14);
    }
    this.lastStamp.set(ecuId, stamp);
    return stamp;
  }
}
