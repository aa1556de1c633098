import { join } from "node:path";
import type { Logger } from "../log.js";
import type { ExchangeListener } from "../proxy/exchange.js";
import { packageVersion } from "../shipped.js";
import { type StatusAccess, statusAccess } from "./access.js";
import { CaptureStore } from "./captures.js";
import { StatusServer } from "./http.js";
import { type DevicesView, StatusModel, type StatusModelConfig } from "./model.js";
import type { EmaSummary, HomeAssistantSummary, Mode } from "./types.js";

/** The captures' file under the data directory (the page keeps no other file). */
export const CAPTURES_FILE = "captures.jsonl";

export interface StatusPageConfig {
  port: number;
  mode: Mode;
  timezone: string;
  dataDir: string;
  captureMaxBytes: number;
  /** The device registry: the page shows its records, as Home Assistant gets them. */
  devices: DevicesView;
  /** Where the page listens and who may read it; default from the environment (add-on or not). */
  access?: Partial<StatusAccess>;
  /** The ports the proxy listens on, once known. */
  ports: number[];
  /** Registers the model and the capture store with the proxy server. */
  onExchange: (listener: ExchangeListener) => void;
  ema?: () => EmaSummary;
  homeAssistant?: () => HomeAssistantSummary;
  control?: StatusModelConfig["control"];
  logger: Logger;
  now?: () => number;
}

export interface RunningStatusPage {
  model: StatusModel;
  captures: CaptureStore;
  server: StatusServer;
  stop(): Promise<void>;
}

/** Builds the status model, the capture store and the page's HTTP server, and starts them. */
export async function startStatusPage(config: StatusPageConfig): Promise<RunningStatusPage> {
  const now = config.now ?? Date.now;
  const version = packageVersion();
  const captures = new CaptureStore({
    file: join(config.dataDir, CAPTURES_FILE),
    maxBytes: config.captureMaxBytes,
    logger: config.logger,
  });
  const model = new StatusModel({
    mode: config.mode,
    timezone: config.timezone,
    version,
    devices: config.devices,
    now,
    captures: () => captures.summary(),
    ...(config.ema ? { ema: config.ema } : {}),
    ...(config.homeAssistant ? { homeAssistant: config.homeAssistant } : {}),
    ...(config.control ? { control: config.control } : {}),
  });
  model.setPorts(config.ports);

  config.onExchange((ex) => {
    model.handleExchange(ex);
    captures.handleExchange(ex);
  });

  const server = new StatusServer({
    port: config.port,
    access: statusAccess(config.access ?? {}),
    model,
    captures,
    generator: `apsystems-ecu-proxy ${version}`,
    logger: config.logger,
    now,
  });
  await server.start();
  return {
    model,
    captures,
    server,
    async stop() {
      await server.stop();
      await captures.flush();
    },
  };
}
