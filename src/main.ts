import { mkdirSync } from "node:fs";
import { EmaForwarder, type EmaStatus, forwarderConfigFromOptions } from "./ema/forwarder.js";
import { createHomeAssistantBridge } from "./ha/bridge.js";
import type { Logger } from "./log.js";
import type { MqttSettings } from "./mqtt/link.js";
import { mqttSettingsFromOptions } from "./mqtt/settings.js";
import { effectiveTimezone } from "./options/load.js";
import type { Options } from "./options/schema.js";
import { allowListed } from "./proxy/allowList.js";
import { ProxyServer } from "./proxy/server.js";

export const DEFAULT_PORTS = [8995, 8996, 8997];
/** The WiFi-module OTA port, only with option ota_listener (§8). */
export const OTA_PORT = 9220;

export interface ServeConfig {
  options: Options;
  host: string;
  /** Ports for ECU traffic; 9220 is added when ota_listener is on and ports were not given. */
  ports: number[];
  dataDir: string;
  statusPort?: number;
  logger: Logger;
  /** Broker resolved elsewhere (e.g. the Supervisor); default: from the mqtt_* options. */
  mqtt?: MqttSettings;
  /** EMA port for a request on a local port (forwarding mode); default the same port. For tests. */
  emaUpstreamPort?: (localPort: number) => number;
}

export interface RunningProxy {
  server: ProxyServer;
  /** Forwarding diagnostics (EMA reachable, answers from EMA/proxy); only when forward_to_ema. */
  ema?: EmaStatus;
  stop(): Promise<void>;
}

/** Wires the parts together and starts them; the caller owns signals and exit codes. */
export async function startProxy(config: ServeConfig): Promise<RunningProxy> {
  const { options, logger } = config;
  const log = logger.child({ module: "main" });
  mkdirSync(config.dataDir, { recursive: true });
  const mode = options.forward_to_ema ? "forwarding" : "cloudless";
  log.info(
    { mode, timezone: effectiveTimezone(options), dataDir: config.dataDir },
    `starting APsystems ECU proxy (${mode})`,
  );

  // Nothing is sent to EMA, and nothing resolved, unless forwarding is on.
  const ema: EmaForwarder | undefined = options.forward_to_ema
    ? new EmaForwarder({
        ...forwarderConfigFromOptions(options),
        logger,
        listeningPorts: (): number[] => server.boundPorts,
        ...(config.emaUpstreamPort ? { upstreamPort: config.emaUpstreamPort } : {}),
      })
    : undefined;
  if (ema) log.info(ema.describe());

  const server = new ProxyServer({
    host: config.host,
    ports: config.ports,
    maxMessageBytes: options.max_message_kib * 1024,
    idleTimeoutMs: options.idle_timeout_seconds * 1000,
    maxConnections: options.max_connections,
    maxConnectionsPerAddress: options.max_connections_per_address,
    logger,
    ...(ema ? { responder: ema.responder } : {}),
  });
  const bridge = createHomeAssistantBridge({
    settings: config.mqtt ?? mqttSettingsFromOptions(options),
    options,
    dataDir: config.dataDir,
    logger,
    mode,
  });
  await bridge.start();
  if (ema) {
    bridge.setEmaDiagnostics(ema.stats);
    ema.onStatsChange((stats) => bridge.setEmaDiagnostics(stats));
  }
  server.onExchange(
    allowListed(options.allowed_ecu_ids, (exchange) => bridge.handleExchange(exchange), logger),
  );
  try {
    await server.start();
  } catch (err) {
    // The MQTT client would otherwise keep the process alive after a failed start.
    await bridge.stop();
    throw err;
  }

  return {
    server,
    ...(ema ? { ema } : {}),
    async stop() {
      // Requests still waiting for EMA get their local answers now, so the drain is quick.
      ema?.close();
      // In parallel: both have their own ~1 s limit, and the CLI gives up after 1.8 s.
      await Promise.all([server.stop(), bridge.stop()]);
      log.info("stopped");
    },
  };
}
