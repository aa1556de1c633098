/**
 * The one schema for every user option. The add-on's config.yaml `options:`/`schema:` blocks
 * are derived from it (test/addon tests prove they agree), and `loadOptions` validates
 * /data/options.json against it with ajv.
 *
 * Keys are snake_case because they are the add-on's option names.
 */

export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Options {
  log_level: LogLevel;
  /** IANA zone of the ECU's clock; default: the process TZ, else UTC. */
  timezone?: string;
  mqtt_host?: string;
  mqtt_port?: number;
  mqtt_username?: string;
  mqtt_password?: string;
  mqtt_tls?: boolean;
  mqtt_base_topic: string;
  discovery_prefix: string;
  ha_status_topic: string;
  offline_after_minutes: number;
  remove_stale_devices_after_days: number;
  forward_to_ema: boolean;
  ema_host: string;
  ema_dns_server: string;
  ema_timeout_seconds: number;
  block_firmware_updates: boolean;
  ota_listener: boolean;
  max_message_kib: number;
  idle_timeout_seconds: number;
  max_connections: number;
  max_connections_per_address: number;
  allowed_ecu_ids: string[];
  /** ECUs tracked and published at most; others are answered only. */
  max_ecus: number;
  /** Inverters tracked per ECU at most (an ECU-C handles about 80). */
  max_inverters_per_ecu: number;
  /** A panel input below this share of its siblings' median, round after round, is "weak"; 0: off. */
  weak_panel_percent: number;
  status_port?: number;
  /** Disk space for raw frames kept for bug reports (status page captures), KiB. */
  capture_max_kib: number;
  /** Experimental: switch inverters and set their power limit through the ECU (issue 19). */
  inverter_control: boolean;
  /** A command the ECU does not poll for within this many minutes is given up. */
  inverter_control_timeout_minutes: number;
}

/** Extra, non-JSON-Schema hints used to derive the Supervisor's schema strings. */
interface SupervisorHint {
  /** Render as `password` (masked in the UI). */
  "x-supervisor"?: "password" | "port";
  /**
   * An expert option: left out of config.yaml `options:` and optional (`?`) in `schema:`, so the
   * Supervisor's form hides it until the user sets it (DOCS.md, "Expert options"). It must have
   * a `default`: the program fills it in when /data/options.json lacks the key.
   */
  "x-expert"?: true;
}

type PropertySchema = SupervisorHint & Record<string, unknown>;

const HOST_PATTERN = "^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$";
const TOPIC_PATTERN = "^[^#+\\s]+$";

export const optionProperties = {
  log_level: { type: "string", enum: [...LOG_LEVELS], default: "info" },
  timezone: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_+/-]+$" },
  mqtt_host: { type: "string", maxLength: 253, pattern: `^$|${HOST_PATTERN}` },
  mqtt_port: { type: "integer", minimum: 1, maximum: 65535, "x-supervisor": "port" },
  mqtt_username: { type: "string", maxLength: 256 },
  mqtt_password: { type: "string", maxLength: 256, "x-supervisor": "password" },
  mqtt_tls: { type: "boolean" },
  mqtt_base_topic: {
    type: "string",
    minLength: 1,
    maxLength: 64,
    pattern: TOPIC_PATTERN,
    default: "apsystems_ecu_proxy",
    "x-expert": true,
  },
  discovery_prefix: {
    type: "string",
    minLength: 1,
    maxLength: 64,
    pattern: TOPIC_PATTERN,
    default: "homeassistant",
    "x-expert": true,
  },
  ha_status_topic: {
    type: "string",
    minLength: 1,
    maxLength: 128,
    pattern: TOPIC_PATTERN,
    default: "homeassistant/status",
    "x-expert": true,
  },
  offline_after_minutes: { type: "integer", minimum: 1, maximum: 1440, default: 15 },
  remove_stale_devices_after_days: { type: "integer", minimum: 0, maximum: 3650, default: 0 },
  forward_to_ema: { type: "boolean", default: false },
  ema_host: {
    type: "string",
    minLength: 1,
    maxLength: 253,
    pattern: HOST_PATTERN,
    default: "ecu.apsystemsema.com",
    "x-expert": true,
  },
  ema_dns_server: {
    type: "string",
    minLength: 1,
    maxLength: 64,
    pattern: HOST_PATTERN,
    default: "1.1.1.1",
    "x-expert": true,
  },
  ema_timeout_seconds: { type: "integer", minimum: 1, maximum: 9, default: 4, "x-expert": true },
  block_firmware_updates: { type: "boolean", default: true },
  ota_listener: { type: "boolean", default: false },
  max_message_kib: { type: "integer", minimum: 4, maximum: 1024, default: 64, "x-expert": true },
  idle_timeout_seconds: {
    type: "integer",
    minimum: 1,
    maximum: 3600,
    default: 30,
    "x-expert": true,
  },
  max_connections: { type: "integer", minimum: 1, maximum: 10000, default: 512, "x-expert": true },
  max_connections_per_address: {
    type: "integer",
    minimum: 1,
    maximum: 10000,
    default: 32,
    "x-expert": true,
  },
  allowed_ecu_ids: {
    type: "array",
    items: { type: "string", pattern: "^[0-9]{12}$" },
    maxItems: 100,
    default: [],
  },
  max_ecus: { type: "integer", minimum: 1, maximum: 1000, default: 16, "x-expert": true },
  max_inverters_per_ecu: {
    type: "integer",
    minimum: 1,
    maximum: 1000,
    default: 100,
    "x-expert": true,
  },
  weak_panel_percent: { type: "integer", minimum: 0, maximum: 90, default: 25 },
  status_port: { type: "integer", minimum: 1, maximum: 65535, "x-supervisor": "port" },
  capture_max_kib: {
    type: "integer",
    minimum: 64,
    maximum: 65536,
    default: 1024,
    "x-expert": true,
  },
  inverter_control: { type: "boolean", default: false },
  inverter_control_timeout_minutes: {
    type: "integer",
    minimum: 5,
    maximum: 1440,
    default: 35,
    "x-expert": true,
  },
} as const satisfies Record<keyof Options, PropertySchema>;

export const optionsSchema = {
  type: "object",
  additionalProperties: false,
  properties: optionProperties,
} as const;

export type OptionKey = keyof Options;
