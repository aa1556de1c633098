import { join } from "node:path";
import type { Logger } from "../log.js";
import type { ExchangeListener } from "../proxy/exchange.js";
import { packageVersion } from "../shipped.js";
import { type StatusAccess, statusAccess } from "./access.js";
import { CaptureStore } from "./captures.js";
import { readIfExists, WriteQueue, writeAtomic } from "./files.js";
import { StatusServer } from "./http.js";
import { StatusModel } from "./model.js";
import type { EmaSummary, Mode } from "./types.js";

/** Files under the data directory. */
export const STATE_FILE = "status.json";
export const CAPTURES_FILE = "captures.jsonl";

export interface StatusPageConfig {
  port: number;
  mode: Mode;
  timezone: string;
  dataDir: string;
  captureMaxBytes: number;
  /** Option allowed_ecu_ids (empty = all). */
  allowedEcuIds?: readonly string[];
  /** Where the page listens and who may read it; default from the environment (add-on or not). */
  access?: Partial<StatusAccess>;
  /** The ports the proxy listens on, once known. */
  ports: number[];
  /** Registers the model and the capture store with the proxy server. */
  onExchange: (listener: ExchangeListener) => void;
  ema?: () => EmaSummary;
  /** Today's energy per ECU, Wh (the Home Assistant bridge's counter). */
  energyToday?: (ecuId: string) => number | undefined;
  logger: Logger;
  now?: () => number;
}

export interface RunningStatusPage {
  model: StatusModel;
  captures: CaptureStore;
  server: StatusServer;
  stop(): Promise<void>;
}

function restore(model: StatusModel, text: string, nowMs: number): boolean {
  try {
    return model.restore(JSON.parse(text), nowMs);
  } catch {
    return false;
  }
}

/** Builds the status model, the capture store and the page's HTTP server, and starts them. */
export async function startStatusPage(config: StatusPageConfig): Promise<RunningStatusPage> {
  const log = config.logger.child({ module: "status" });
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
    now,
    captures: () => captures.summary(),
    ...(config.ema ? { ema: config.ema } : {}),
    ...(config.allowedEcuIds ? { allowedEcuIds: config.allowedEcuIds } : {}),
    ...(config.energyToday ? { energyToday: config.energyToday } : {}),
  });
  model.setPorts(config.ports);

  // Devices and today's chart survive a restart: saved after every upload (today's energy is
  // the bridge's, saved with its own state).
  const statePath = join(config.dataDir, STATE_FILE);
  const saved = readIfExists(statePath);
  if (saved !== undefined && !restore(model, saved, now())) {
    log.warn({ file: statePath }, "saved status is damaged; starting empty");
  }
  const stateQueue = new WriteQueue(
    () => writeAtomic(statePath, JSON.stringify(model.toJSON())),
    (err) => log.warn({ err }, "cannot save the status"),
  );
  model.onUpload(() => stateQueue.request());

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
      await Promise.all([stateQueue.flush(), captures.flush()]);
    },
  };
}
