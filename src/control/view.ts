import type { ControlEntry, ControlStatus } from "./queue.js";

/**
 * What Home Assistant and the status page show for a setting: the value the ECU confirmed
 * (never one it has not taken: no optimistic state), and what became of the newest request.
 * `rejected` = refused by the proxy itself (bad value), never sent.
 */
export type SettingStatus = ControlStatus | "rejected";
export const SETTING_STATUSES: readonly SettingStatus[] = [
  "queued",
  "pending",
  "confirmed",
  "refused",
  "not_delivered",
  "rejected",
];

type StatusFields<P extends string> = {
  [K in `${P}_status` | `${P}_detail` | `${P}_requested`]: K extends `${P}_status`
    ? SettingStatus | null
    : K extends `${P}_detail`
      ? string | null
      : boolean | number | null;
};

export type ControlView = {
  on: "ON" | "OFF" | null;
  power_limit: number | null;
  power_limit_min: number;
  power_limit_max: number;
  /** `ecu` once the ECU reported the range (A117), else `rating`. */
  power_limit_range: "ecu" | "rating";
  /** Whether the uploads since the newest confirmation show it (0 W when off, ≤ the limit). */
  upload_check: "agrees" | "disagrees" | null;
} & StatusFields<"on"> &
  StatusFields<"power_limit">;

export type EcuControlView = {
  inverters_on: "ON" | "OFF" | null;
  /** Commands waiting for a poll or an acknowledgement. */
  open_commands: number;
} & StatusFields<"inverters_on">;

/** The status fields of one setting, from its newest command or the proxy's own refusal. */
export function settingView<P extends string>(
  prefix: P,
  entry: ControlEntry | undefined,
  rejected: { error: string; at: number } | undefined,
): StatusFields<P> {
  const fields: Record<string, unknown> = {};
  if (rejected && (!entry || rejected.at >= entry.queuedAt)) {
    fields[`${prefix}_status`] = "rejected";
    fields[`${prefix}_detail`] = rejected.error;
    fields[`${prefix}_requested`] = null;
  } else {
    fields[`${prefix}_status`] = entry?.status ?? null;
    fields[`${prefix}_detail`] = entry?.detail ?? null;
    fields[`${prefix}_requested`] = entry?.value ?? null;
  }
  return fields as StatusFields<P>;
}

/** A command in words, for log lines. */
export function describe(entry: ControlEntry): string {
  const who = entry.uid === null ? "all inverters" : `inverter ${entry.uid}`;
  switch (entry.setting) {
    case "on":
      return `A111 (${who} ${entry.value ? "on" : "off"})`;
    case "power_limit":
      return `A110 (${who} limited to ${String(entry.value)} W)`;
    case "report":
      return "A117 (report the inverters' power limits)";
  }
}
