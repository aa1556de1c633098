import type { Logger } from "../log.js";
import {
  buildControlCommand,
  commandCode,
  MAX_POWER_FIELD_MAX,
} from "../protocol/answers/controlCommand.js";
import { ratedPowerW } from "../protocol/models.js";
import type { ControlAckMessage, MaxPowerReportMessage } from "../protocol/types.js";
import { type ControlEntry, ControlQueue, type QueueTimes } from "./queue.js";
import { type ControlRequest, checkRequest } from "./requests.js";
import { type ControlView, describe, type EcuControlView, settingView } from "./view.js";

export type { ControlRequest } from "./requests.js";

/** The inverters the proxy tracks, as control needs them. */
export interface ControlDevices {
  /** `powerW`: the inverter's power in the newest upload (sum of its inputs), when known. */
  inverter(uid: string): { ecuId: string; model: string; powerW?: number | null } | undefined;
  inverterUids(ecuId: string): readonly string[];
  /** Clock ms of the ECU's newest live upload. */
  lastUploadAt?(ecuId: string): number | null;
}

export interface InverterControlConfig extends QueueTimes {
  devices: ControlDevices;
  logger: Logger;
}

/**
 * The A117 report follows its acknowledgement on a connection of its own once the ECU has read
 * the inverters (the firmware hands it to its main loop); later than this it is not ours.
 */
const REPORT_WITHIN_MS = 10 * 60_000;

/** The lower bound MAXPOWER_RANGE gives in FW-R18 and FW-ECU3 ("020300"), until A117 says. */
const FIRMWARE_MIN_W = 20;

export type RequestResult = { ok: true } | { ok: false; error: string };

/** Change listeners learn which ECU's entities to publish again, and whether ranges moved. */
export type ControlListener = (ecuId: string, rangesChanged: boolean) => void;

/**
 * Local control of inverters through the ECU's own control channel (issue 19): turns requests
 * from Home Assistant into A110/A111 commands, gives each to its ECU as the answer to its next
 * poll, and follows the acknowledgement. Values it cannot vouch for (outside the range the ECU
 * reported, or the model's rating before it has) are refused here and never reach the ECU.
 */
export class InverterControl {
  private readonly queue: ControlQueue;
  private readonly log: Logger;
  private readonly confirmedOn = new Map<string, boolean>();
  private readonly confirmedLimit = new Map<string, number>();
  /** When the newest on/off or limit of each inverter was confirmed (uploads after it judge it). */
  private readonly confirmedAt = new Map<string, number>();
  private readonly reported = new Map<string, { min: number; max: number }>();
  private readonly rejected = new Map<string, { error: string; at: number }>();
  private readonly asked = new Set<string>();
  private readonly listeners: ControlListener[] = [];

  constructor(private readonly config: InverterControlConfig) {
    this.queue = new ControlQueue(config);
    this.log = config.logger.child({ module: "control" });
  }

  onChange(listener: ControlListener): void {
    this.listeners.push(listener);
  }

  /** The range a power limit must be in, and where it comes from. */
  range(uid: string): { min: number; max: number; source: "ecu" | "rating" } {
    const reported = this.reported.get(uid);
    if (reported) return { ...reported, source: "ecu" };
    const model = this.config.devices.inverter(uid)?.model ?? "unknown";
    const rated = ratedPowerW(model) ?? MAX_POWER_FIELD_MAX;
    return { min: FIRMWARE_MIN_W, max: Math.min(rated, MAX_POWER_FIELD_MAX), source: "rating" };
  }

  /** A command from Home Assistant: queued for the ECU, or refused with the reason. */
  request(req: ControlRequest, now: number): RequestResult {
    const checked = checkRequest(req, this.config.devices, (uid) => this.range(uid));
    const rejectKey = req.target === "ecu" ? `${req.ecuId}/all/on` : `${req.uid}/${req.setting}`;
    if (!checked.ok) {
      this.rejected.set(rejectKey, { error: checked.error, at: now });
      this.log.warn({ request: { ...req, payload: req.payload.slice(0, 40) } }, checked.error);
      if (checked.ecuId) this.changed(checked.ecuId, false);
      return { ok: false, error: checked.error };
    }
    this.rejected.delete(rejectKey);
    const { entry, replaced } = this.queue.enqueue(checked.entry, now);
    this.log.info(
      {
        ecu: entry.ecuId,
        inverter: entry.uid ?? "all",
        setting: entry.setting,
        value: entry.value,
      },
      `control: ${describe(entry)} queued for the ECU's next poll${replaced ? " (replaces the value not yet sent)" : ""}`,
    );
    this.changed(entry.ecuId, false);
    return { ok: true };
  }

  /**
   * The answer to an ECU's control poll: its next command, or null for "no commands". When
   * nothing waits, the first poll after start asks for the ECU's power limits (A117).
   */
  answerPoll(ecuId: string, now: number): Buffer | null {
    this.expire(now);
    if (this.queue.open(ecuId) === 0 && !this.asked.has(ecuId)) {
      if (this.config.devices.inverterUids(ecuId).length > 0) {
        this.asked.add(ecuId);
        this.queue.enqueue(
          {
            ecuId,
            uid: null,
            setting: "report",
            value: null,
            command: { kind: "report_max_power" },
          },
          now,
        );
      }
    }
    const entry = this.queue.take(ecuId, now);
    if (!entry?.timestamp) return null;
    const frame = buildControlCommand(ecuId, entry.command, entry.timestamp);
    this.log.info(
      {
        ecu: ecuId,
        command: commandCode(entry.command),
        timestamp: entry.timestamp,
        frame: frame.toString("latin1"),
      },
      `control: sent ${describe(entry)} to the ECU, waiting for its acknowledgement`,
    );
    this.changed(ecuId, false);
    return frame;
  }

  /** True when the acknowledgement was for a command this proxy sent. */
  handleAck(ack: ControlAckMessage, now: number): boolean {
    this.expire(now);
    const entry = this.queue.acknowledge(ack.ecuId, ack.command, ack.timestamp, ack.result);
    if (!entry) return false;
    if (entry.status === "confirmed") this.apply(entry, now);
    const outcome = entry.status === "confirmed" ? "confirmed" : `refused (result ${ack.result})`;
    const line = `control: the ECU acknowledged ${describe(entry)}: ${outcome}`;
    if (entry.status === "confirmed") this.log.info({ ecu: ack.ecuId, ack }, line);
    else this.log.warn({ ecu: ack.ecuId, ack }, line);
    this.changed(ack.ecuId, false);
    return true;
  }

  /** True when the ECU sent the report because this proxy asked for it (A117). */
  handleReport(report: MaxPowerReportMessage, now: number): boolean {
    const asked = this.queue.entry(report.ecuId, null, "report");
    // A report long after ours answers someone else (EMA, when its commands are let through).
    const ours = asked?.sentAt !== undefined && now - asked.sentAt <= REPORT_WITHIN_MS;
    if (!asked || asked.status === "queued" || !ours) return false;
    for (const e of report.entries) {
      if (e.minW >= 0 && e.maxW > e.minW) this.reported.set(e.uid, { min: e.minW, max: e.maxW });
      if (e.limitW !== null) this.confirmedLimit.set(e.uid, e.limitW);
    }
    this.log.info(
      { ecu: report.ecuId, entries: report.entries, unparsed: report.unparsed },
      `control: the ECU reported the power limits of ${report.entries.length} inverters${
        report.unparsed.length > 0
          ? ` (${report.unparsed.length} entries in an unknown layout, kept raw)`
          : ""
      }`,
    );
    this.changed(report.ecuId, true);
    return true;
  }

  /** Gives up commands that waited too long (also run on a timer by the caller). */
  expire(now: number): void {
    const ecus = new Set<string>();
    for (const e of this.queue.expire(now)) {
      this.log.warn(
        { ecu: e.ecuId, inverter: e.uid ?? "all" },
        `control: ${describe(e)} not delivered: ${e.detail}`,
      );
      ecus.add(e.ecuId);
    }
    for (const ecuId of ecus) this.changed(ecuId, false);
  }

  /** What an inverter's entities show. */
  inverterView(uid: string): ControlView {
    const ecuId = this.config.devices.inverter(uid)?.ecuId ?? "";
    const range = this.range(uid);
    const on = this.confirmedOn.get(uid);
    const limit = this.confirmedLimit.get(uid);
    return {
      on: on === undefined ? null : on ? "ON" : "OFF",
      ...settingView("on", this.queue.entry(ecuId, uid, "on"), this.rejected.get(`${uid}/on`)),
      power_limit: limit ?? null,
      ...settingView(
        "power_limit",
        this.queue.entry(ecuId, uid, "power_limit"),
        this.rejected.get(`${uid}/power_limit`),
      ),
      power_limit_min: range.min,
      power_limit_max: range.max,
      power_limit_range: range.source,
      upload_check: this.uploadCheck(uid),
    };
  }

  /** What the ECU's "all inverters" switch shows: ON/OFF only when every inverter agrees. */
  ecuView(ecuId: string): EcuControlView {
    const states = this.config.devices.inverterUids(ecuId).map((uid) => this.confirmedOn.get(uid));
    const all = (v: boolean) => states.length > 0 && states.every((s) => s === v);
    return {
      inverters_on: all(true) ? "ON" : all(false) ? "OFF" : null,
      ...settingView(
        "inverters_on",
        this.queue.entry(ecuId, null, "on"),
        this.rejected.get(`${ecuId}/all/on`),
      ),
      open_commands: this.queue.open(ecuId),
    };
  }

  private apply(entry: ControlEntry, now: number): void {
    const { command } = entry;
    if (command.kind === "switch_all") {
      for (const uid of this.config.devices.inverterUids(entry.ecuId)) {
        this.confirmedOn.set(uid, command.on);
        this.confirmedAt.set(uid, now);
      }
    } else if (command.kind === "switch") {
      for (const i of command.inverters) {
        this.confirmedOn.set(i.uid, i.on);
        this.confirmedAt.set(i.uid, now);
      }
    } else if (command.kind === "max_power") {
      for (const i of command.inverters) {
        this.confirmedLimit.set(i.uid, i.watts);
        this.confirmedAt.set(i.uid, now);
      }
    }
  }

  /**
   * Whether the first uploads after the newest confirmation show it: an inverter switched off
   * reports 0 W, a limited one at most its limit. Null until such an upload arrived.
   */
  private uploadCheck(uid: string): "agrees" | "disagrees" | null {
    const at = this.confirmedAt.get(uid);
    const inverter = this.config.devices.inverter(uid);
    const uploadAt = inverter ? this.config.devices.lastUploadAt?.(inverter.ecuId) : null;
    const power = inverter?.powerW;
    if (at === undefined || !uploadAt || uploadAt <= at || power == null) return null;
    if (this.confirmedOn.get(uid) === false) return power === 0 ? "agrees" : "disagrees";
    const limit = this.confirmedLimit.get(uid);
    if (limit === undefined) return null;
    return power <= limit ? "agrees" : "disagrees";
  }

  private changed(ecuId: string, rangesChanged: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(ecuId, rangesChanged);
      } catch (err) {
        this.log.error({ err }, "control listener failed");
      }
    }
  }
}
