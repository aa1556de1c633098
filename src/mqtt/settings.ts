import type { Options } from "../options/schema.js";
import type { MqttSettings } from "./link.js";

/**
 * Broker settings from the user's options; `undefined` when no host is set. (The add-on's
 * Supervisor lookup, when present, passes its own settings instead.)
 */
export function mqttSettingsFromOptions(options: Options): MqttSettings | undefined {
  if (!options.mqtt_host) return undefined;
  const tls = options.mqtt_tls ?? false;
  const settings: MqttSettings = {
    host: options.mqtt_host,
    port: options.mqtt_port ?? (tls ? 8883 : 1883),
    tls,
  };
  if (options.mqtt_username) settings.username = options.mqtt_username;
  if (options.mqtt_password) settings.password = options.mqtt_password;
  return settings;
}
