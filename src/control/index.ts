import type { DeviceRegistry } from "../devices/registry.js";
import type { Logger } from "../log.js";
import type { InverterControlView } from "../status/types.js";
import { epochToIso } from "../zoneTime.js";
import { InverterControl } from "./service.js";

/**
 * How long a sent command may wait for its acknowledgement. The firmware answers on the same
 * connection within its 10 s answer window (control_client.c), so two minutes is generous;
 * after it the command is shown as not delivered.
 */
export const ACK_WITHIN_MS = 2 * 60_000;
/** How often commands that waited too long are given up between polls. */
const EXPIRE_EVERY_MS = 30_000;

export interface RunningControl {
  control: InverterControl;
  stop(): void;
}

/** Inverter control over the tracked devices, with its expiry timer. */
export function startInverterControl(config: {
  devices: DeviceRegistry;
  logger: Logger;
  zone: string;
  deliverWithinMs: number;
}): RunningControl {
  const { devices } = config;
  const control = new InverterControl({
    devices: {
      inverter: (uid) => {
        const inv = devices.allInverters.find((i) => i.uid === uid);
        if (!inv) return undefined;
        const powers = inv.channels.map((c) => c.powerW);
        const powerW = powers.some((p) => p === null)
          ? null
          : powers.reduce<number>((sum, p) => sum + (p ?? 0), 0);
        return { ecuId: inv.ecuId, model: inv.model, powerW };
      },
      inverterUids: (ecuId) => devices.inverters(ecuId).map((i) => i.uid),
      lastUploadAt: (ecuId) => devices.ecu(ecuId)?.lastUploadAt ?? null,
    },
    logger: config.logger,
    deliverWithinMs: config.deliverWithinMs,
    ackWithinMs: ACK_WITHIN_MS,
    // The ECU's own clock format (local wall time, 14 digits); it only echoes it back.
    stamp: (now) => epochToIso(now, config.zone).slice(0, 19).replace(/\D/g, ""),
  });
  const timer = setInterval(() => control.expire(Date.now()), EXPIRE_EVERY_MS);
  timer.unref();
  config.logger
    .child({ module: "control" })
    .warn(
      "inverter control is on (experimental): commands from Home Assistant are sent to the ECUs",
    );
  return { control, stop: () => clearInterval(timer) };
}

/** What the status page shows of an inverter's control. */
export function controlSummary(control: InverterControl, uid: string): InverterControlView {
  const v = control.inverterView(uid);
  return {
    on: v.on,
    onStatus: v.on_status,
    powerLimitW: v.power_limit,
    powerLimitStatus: v.power_limit_status,
    detail: v.power_limit_detail ?? v.on_detail,
  };
}
