/**
 * Which MQTT broker to use. The user's options win when `mqtt_host` is set; otherwise, inside
 * a Home Assistant add-on (SUPERVISOR_TOKEN set), the Supervisor's MQTT service tells us the
 * broker of the Mosquitto add-on and credentials made for us (`services: mqtt:need` in
 * config.yaml grants the access). Without either the program runs without MQTT and still
 * answers ECUs. Never logs the token or a password.
 */
import type { Logger } from "../log.js";
import type { MqttSettings } from "../mqtt/link.js";
import { mqttSettingsFromOptions } from "../mqtt/settings.js";
import type { Options } from "../options/schema.js";

export type { MqttSettings };

export interface ResolveDeps {
  logger: Logger;
  /** Injected in tests; the global fetch otherwise. */
  fetchImpl?: typeof fetch;
  /** The Supervisor API; `http://supervisor` inside an add-on container. */
  baseUrl?: string;
  timeoutMs?: number;
}

export const SUPERVISOR_URL = "http://supervisor";
const DEFAULT_TIMEOUT_MS = 5000;

/** `data` of the Supervisor's `GET /services/mqtt` answer (supervisor api/services.py). */
interface SupervisorMqttData {
  host?: unknown;
  port?: unknown;
  ssl?: unknown;
  username?: unknown;
  password?: unknown;
  protocol?: unknown;
  addon?: unknown;
}

/** Asks the Supervisor for the MQTT service; undefined (and one log line) when it cannot. */
export async function fetchSupervisorMqtt(
  token: string,
  deps: ResolveDeps,
): Promise<MqttSettings | undefined> {
  const log = deps.logger.child({ module: "supervisor" });
  const url = `${deps.baseUrl ?? SUPERVISOR_URL}/services/mqtt`;
  const doFetch = deps.fetchImpl ?? fetch;
  let status: number;
  let body: unknown;
  try {
    const res = await doFetch(url, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      signal: AbortSignal.timeout(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    status = res.status;
    const text = await res.text();
    try {
      body = JSON.parse(text);
    } catch {
      body = { message: text.slice(0, 200) };
    }
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log.warn({ url, reason }, "cannot reach the Supervisor to find the MQTT broker");
    return undefined;
  }
  const answer = (typeof body === "object" && body !== null ? body : {}) as {
    result?: unknown;
    message?: unknown;
    data?: SupervisorMqttData;
  };
  if (status !== 200 || answer.result !== "ok") {
    const message = typeof answer.message === "string" ? answer.message : undefined;
    log.warn(
      { status, message },
      message === "Service not enabled"
        ? "no MQTT broker add-on is installed (install Mosquitto broker or set mqtt_host)"
        : "the Supervisor did not give the MQTT broker",
    );
    return undefined;
  }
  const data = answer.data ?? {};
  const port = data.port;
  if (
    typeof data.host !== "string" ||
    data.host === "" ||
    typeof port !== "number" ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    log.warn(
      { host: data.host, port },
      "the Supervisor's MQTT service answer has no usable broker",
    );
    return undefined;
  }
  const settings: MqttSettings = {
    host: data.host,
    port,
    tls: data.ssl === true,
  };
  if (typeof data.username === "string" && data.username) settings.username = data.username;
  if (typeof data.password === "string" && data.password) settings.password = data.password;
  log.info(
    { host: settings.host, port: settings.port, tls: settings.tls, addon: data.addon },
    "using the MQTT broker from the Supervisor",
  );
  return settings;
}

/**
 * The MQTT broker to use: the options' when `mqtt_host` is set (port default 1883, or 8883 with
 * TLS), else the Supervisor's when SUPERVISOR_TOKEN is set, else undefined (no MQTT).
 */
export async function resolveMqttSettings(
  options: Options,
  env: NodeJS.ProcessEnv,
  deps: ResolveDeps,
): Promise<MqttSettings | undefined> {
  const log = deps.logger.child({ module: "supervisor" });
  const fromOptions = mqttSettingsFromOptions(options);
  if (fromOptions) {
    log.info(
      { host: fromOptions.host, port: fromOptions.port },
      "using the MQTT broker from the options",
    );
    return fromOptions;
  }
  if (options.mqtt_username || options.mqtt_password || options.mqtt_port) {
    log.warn("mqtt_port/mqtt_username/mqtt_password are ignored while mqtt_host is empty");
  }
  const token = env.SUPERVISOR_TOKEN;
  if (!token) {
    log.info("no mqtt_host and no Supervisor: running without MQTT, ECUs are still answered");
    return undefined;
  }
  return fetchSupervisorMqtt(token, deps);
}
