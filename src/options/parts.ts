/**
 * The user's options turned into each part's own configuration (units, names), in one place:
 * the parts never read `Options` themselves.
 */
import type { DevicesConfig } from "../devices/registry.js";
import type { HomeAssistantConfig, ProxyMode } from "../ha/bridge.js";
import { effectiveTimezone } from "./load.js";
import type { Options } from "./schema.js";

export function proxyMode(options: Options): ProxyMode {
  return options.forward_to_ema ? "forwarding" : "cloudless";
}

/** The TCP server's limits. */
export function serverLimits(options: Options) {
  return {
    maxMessageBytes: options.max_message_kib * 1024,
    idleTimeoutMs: options.idle_timeout_seconds * 1000,
    maxConnections: options.max_connections,
    maxConnectionsPerAddress: options.max_connections_per_address,
  };
}

export function devicesConfig(options: Options): Omit<DevicesConfig, "dataDir" | "logger"> {
  return {
    zone: effectiveTimezone(options),
    offlineAfterMs: options.offline_after_minutes * 60_000,
    staleAfterMs: options.remove_stale_devices_after_days * 86_400_000,
    limits: {
      maxEcus: options.max_ecus,
      maxInvertersPerEcu: options.max_inverters_per_ecu,
    },
    weakRatio: options.weak_panel_percent / 100,
  };
}

export function homeAssistantConfig(options: Options): HomeAssistantConfig {
  return {
    baseTopic: options.mqtt_base_topic,
    discoveryPrefix: options.discovery_prefix,
    haStatusTopic: options.ha_status_topic,
    zone: effectiveTimezone(options),
    mode: proxyMode(options),
  };
}

/** The EMA forwarder's settings (forwarding mode only). */
export function forwarderSettings(options: Options) {
  return {
    host: options.ema_host,
    dnsServer: options.ema_dns_server,
    timeoutMs: options.ema_timeout_seconds * 1000,
    blockFirmwareUpdates: options.block_firmware_updates,
  };
}

export function statusSettings(options: Options) {
  return {
    mode: proxyMode(options),
    timezone: effectiveTimezone(options),
    captureMaxBytes: options.capture_max_kib * 1024,
  };
}

/** Inverter control (option inverter_control); undefined when it is off. */
export function controlSettings(options: Options) {
  if (!options.inverter_control) return undefined;
  return {
    zone: effectiveTimezone(options),
    deliverWithinMs: options.inverter_control_timeout_minutes * 60_000,
  };
}
