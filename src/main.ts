import { mkdirSync } from "node:fs";
import type { Logger } from "./log.js";
import { effectiveTimezone } from "./options/load.js";
import type { Options } from "./options/schema.js";
import { ProxyServer } from "./proxy/server.js";
import type { StatusAccess } from "./status/access.js";
import { type RunningStatusPage, startStatusPage } from "./status/index.js";

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
  /** Where the status page listens and who may read it; default: by add-on or not. */
  statusAccess?: Partial<StatusAccess>;
  logger: Logger;
}

export interface RunningProxy {
  server: ProxyServer;
  status?: RunningStatusPage;
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

  const server = new ProxyServer({
    host: config.host,
    ports: config.ports,
    maxMessageBytes: options.max_message_kib * 1024,
    idleTimeoutMs: options.idle_timeout_seconds * 1000,
    maxConnections: options.max_connections,
    maxConnectionsPerAddress: options.max_connections_per_address,
    logger,
  });
  await server.start();

  let status: RunningStatusPage | undefined;
  if (config.statusPort !== undefined) {
    try {
      status = await startStatusPage({
        port: config.statusPort,
        mode,
        timezone: effectiveTimezone(options),
        dataDir: config.dataDir,
        captureMaxBytes: options.capture_max_kib * 1024,
        allowedEcuIds: options.allowed_ecu_ids,
        ...(config.statusAccess ? { access: config.statusAccess } : {}),
        ports: server.boundPorts,
        onExchange: (listener) => server.onExchange(listener),
        logger,
      });
    } catch (err) {
      // The page is a diagnostic: without it the ECUs must still get their answers.
      log.error({ err }, `status page not started: ${(err as Error).message}`);
    }
  }

  return {
    server,
    ...(status ? { status } : {}),
    async stop() {
      await server.stop();
      await status?.stop();
      log.info("stopped");
    },
  };
}
