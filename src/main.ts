import { mkdirSync } from "node:fs";
import { controlSummary, type RunningControl, startInverterControl } from "./control/index.js";
import { withInverterControl } from "./control/responder.js";
import { DeviceRegistry } from "./devices/registry.js";
import type { EmaForwarder, EmaStats, EmaStatus } from "./ema/forwarder.js";
import { checkFdBudget } from "./fdBudget.js";
import { createHomeAssistantBridge } from "./ha/bridge.js";
import type { Logger } from "./log.js";
import type { MqttSettings } from "./mqtt/link.js";
import { mqttSettingsFromOptions } from "./mqtt/settings.js";
import {
  controlSettings,
  devicesConfig,
  forwarderSettings,
  homeAssistantConfig,
  proxyMode,
  serverLimits,
  statusSettings,
} from "./options/parts.js";
import type { Options } from "./options/schema.js";
import { noCommandsAnswer } from "./protocol/answers/controlPoll.js";
import { allowedEcu, allowListed } from "./proxy/allowList.js";
import { type AnswerServices, createLocalResponder } from "./proxy/responder.js";
import { ProxyServer } from "./proxy/server.js";
import type { StatusAccess } from "./status/access.js";
import type { RunningStatusPage } from "./status/index.js";
import type { EmaSummary } from "./status/types.js";

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
  /** Broker resolved elsewhere (e.g. the Supervisor); default: from the mqtt_* options. */
  mqtt?: MqttSettings;
  /**
   * fsync rounds before confirming them (default true). Off only for the benchmark's
   * comparison (environment ECU_PROXY_UNSAFE_NO_FSYNC=1): a power cut can then lose rounds the
   * ECUs have deleted.
   */
  sync?: boolean;
  /** EMA port for a request on a local port (forwarding mode); default the same port. For tests. */
  emaUpstreamPort?: (localPort: number) => number;
}

export interface RunningProxy {
  server: ProxyServer;
  devices: DeviceRegistry;
  /** Forwarding diagnostics (EMA reachable, answers from EMA/proxy); only when forward_to_ema. */
  ema?: EmaStatus;
  status?: RunningStatusPage;
  stop(): Promise<void>;
}

/** The forwarder's stats as the status page shows them. */
function emaSummary(stats: EmaStats): EmaSummary {
  return {
    reachable: stats.emaReachable ?? null,
    answersFromEma: stats.answersFromEma,
    answersFromProxy: stats.answersFromProxy,
    ...(stats.lastEmaError !== undefined ? { lastError: stats.lastEmaError } : {}),
  };
}

/**
 * Wires the parts together and starts them: server → decode → devices → (Home Assistant,
 * status page). The caller owns signals and exit codes.
 */
export async function startProxy(config: ServeConfig): Promise<RunningProxy> {
  const { options, logger } = config;
  const log = logger.child({ module: "main" });
  mkdirSync(config.dataDir, { recursive: true });
  const mode = proxyMode(options);
  const status = statusSettings(options);
  const mqtt = config.mqtt ?? mqttSettingsFromOptions(options);
  log.info(
    { mode, timezone: status.timezone, dataDir: config.dataDir },
    `starting APsystems ECU proxy (${mode})`,
  );

  // Nothing is sent to EMA, and nothing resolved, unless forwarding is on. Optional parts are
  // loaded only when used: on a small board every module costs resident memory.
  const emaModule = options.forward_to_ema ? await import("./ema/forwarder.js") : undefined;
  const ema: EmaForwarder | undefined = emaModule
    ? new emaModule.EmaForwarder({
        ...forwarderSettings(options),
        logger,
        listeningPorts: (): number[] => server.boundPorts,
        local: (request) => local(request),
        // EMA confirmed the round to the ECU: keep it too (its verdict changes nothing now).
        onEmaAnswered: (request) => {
          if (request.message.type === "upload")
            void services.storeUpload(request.message, request);
        },
        ...(config.emaUpstreamPort ? { upstreamPort: config.emaUpstreamPort } : {}),
      })
    : undefined;
  if (ema) log.info(ema.describe());

  const devices = new DeviceRegistry({
    ...devicesConfig(options),
    dataDir: config.dataDir,
    logger,
    ...(config.sync === false ? { sync: false } : {}),
  });
  if (config.sync === false) {
    log.warn("ECU_PROXY_UNSAFE_NO_FSYNC is set: rounds are confirmed before they are on disk");
  }
  const allowed = allowedEcu(options.allowed_ecu_ids);
  const services: AnswerServices = {
    // An ECU left out by allowed_ecu_ids is answered as before but not tracked: nothing to store.
    storeUpload: (upload) =>
      allowed(upload.ecu.id) ? devices.acceptUpload(upload) : Promise.resolve({ confirm: true }),
    controlAnswer: (poll) => noCommandsAnswer(poll.ecuId),
  };
  const local = createLocalResponder(services);
  const controlOptions = controlSettings(options);
  const control: RunningControl | undefined = controlOptions
    ? startInverterControl({ ...controlOptions, devices, logger })
    : undefined;
  const answers = ema ? ema.responder : local;
  const server = new ProxyServer({
    host: config.host,
    ports: config.ports,
    ...serverLimits(options),
    logger,
    published: allowed,
    responder: control ? withInverterControl(control.control, answers) : answers,
  });
  const bridge = createHomeAssistantBridge({
    ...homeAssistantConfig(options),
    settings: mqtt,
    devices,
    logger,
    ...(control ? { control: control.control } : {}),
  });
  devices.start();
  bridge.start();
  if (ema) {
    bridge.setEmaDiagnostics(ema.stats);
    ema.onStatsChange((stats) => bridge.setEmaDiagnostics(stats));
  }
  server.onExchange(
    allowListed(options.allowed_ecu_ids, (exchange) => devices.handleExchange(exchange), logger),
  );
  try {
    await server.start();
  } catch (err) {
    // The MQTT client would otherwise keep the process alive after a failed start.
    await Promise.all([bridge.stop(), devices.stop()]);
    throw err;
  }

  let page: RunningStatusPage | undefined;
  if (config.statusPort !== undefined) {
    try {
      const { startStatusPage } = await import("./status/index.js");
      page = await startStatusPage({
        port: config.statusPort,
        mode,
        timezone: status.timezone,
        dataDir: config.dataDir,
        captureMaxBytes: status.captureMaxBytes,
        devices,
        ...(config.statusAccess ? { access: config.statusAccess } : {}),
        ports: server.boundPorts,
        onExchange: (listener) => server.onExchange(listener),
        ...(ema ? { ema: () => emaSummary(ema.stats) } : {}),
        ...(control ? { control: (uid: string) => controlSummary(control.control, uid) } : {}),
        homeAssistant: () => ({
          configured: mqtt !== undefined,
          connected: bridge.connected,
          since: bridge.since,
          problem: bridge.problem,
          lastPublishAt: bridge.lastPublishAt,
          devicesAnnounced: bridge.announced,
        }),
        logger,
      });
    } catch (err) {
      // The page is a diagnostic: without it the ECUs must still get their answers.
      log.error({ err }, `status page not started: ${(err as Error).message}`);
    }
  }

  checkFdBudget(
    {
      maxConnections: options.max_connections,
      forwarding: options.forward_to_ema,
      statusPage: page !== undefined,
    },
    log,
  );

  return {
    server,
    devices,
    ...(ema ? { ema } : {}),
    ...(page ? { status: page } : {}),
    async stop() {
      // Requests still waiting for EMA get their local answers now, so the drain is quick.
      ema?.close();
      control?.stop();
      // The server drains first (its last exchanges reach the devices), then the state file
      // is flushed while the broker hears `offline`; each has its own ~1 s limit.
      await server.stop();
      await Promise.all([page?.stop(), devices.stop(), bridge.stop()]);
      log.info("stopped");
    },
  };
}
