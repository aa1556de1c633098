/**
 * The Home Assistant side of the proxy: takes every exchange the TCP server reports (after the
 * ECU was answered), keeps per-device state and counters, persists them, and publishes MQTT
 * discovery + states. Without MQTT settings it still tracks and logs readings.
 */
import type { Logger } from "../log.js";
import { MqttLink, type MqttSettings } from "../mqtt/link.js";
import { effectiveTimezone } from "../options/load.js";
import type { Options } from "../options/schema.js";
import type { UploadMessage } from "../protocol/types.js";
import { exchangeEcuId } from "../proxy/allowList.js";
import type { Exchange } from "../proxy/exchange.js";
import type { BridgeState, EcuRecord } from "./model.js";
import { ORIGIN } from "./origin.js";
import { Publisher, type Sink } from "./publisher.js";
import { StateStore } from "./store.js";
import { localDate } from "./time.js";
import { makeTopics } from "./topics.js";
import { applyUpload, expireOffline, findStale, recordContact, rollover } from "./tracker.js";
import type { EmaDiagnostics, ProxyMode } from "./values.js";

export type { MqttSettings } from "../mqtt/link.js";
export type { ProxyMode } from "./values.js";

export interface BridgeConfig {
  /** Broker to use; `undefined` = no MQTT (readings are only logged). */
  settings: MqttSettings | undefined;
  options: Options;
  /** Directory for state.json (`/data` in the add-on). */
  dataDir: string;
  logger: Logger;
  mode: ProxyMode;
  /** Clock (epoch ms); tests inject one to cross midnight or the offline limit. */
  now?: () => number;
  /** Wait after HA's `online` birth message before re-publishing (default 5 s). */
  haRestartDelayMs?: number;
  /** How often the offline / midnight / stale-device check runs (default 30 s). */
  checkIntervalMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface HomeAssistantBridge {
  start(): Promise<void>;
  /**
   * Never throws and never waits: MQTT and disk work happen in the background. Takes every
   * exchange it is given; main.ts filters by allowed_ecu_ids (proxy/allowList.ts) first.
   */
  handleExchange(exchange: Exchange): void;
  /** Publishes `offline`, writes the state file and disconnects (about 1 s at most). */
  stop(): Promise<void>;
  /** Forwarding mode: the EMA forwarder's figures for the ECUs' diagnostic sensors. */
  setEmaDiagnostics(ema: EmaDiagnostics): void;
  /**
   * Today's energy of an ECU in Wh, as its Home Assistant sensor shows it (the status page shows
   * the same number); undefined for an ECU that never uploaded.
   */
  energyTodayWh(ecuId: string): number | undefined;
}

export function createHomeAssistantBridge(config: BridgeConfig): HomeAssistantBridge {
  const { options, logger: rootLogger } = config;
  const log = rootLogger.child({ module: "mqtt" });
  const now = config.now ?? Date.now;
  const zone = effectiveTimezone(options);
  const offlineMs = options.offline_after_minutes * 60_000;
  const staleMs = options.remove_stale_devices_after_days * 86_400_000;
  const topics = makeTopics(options.mqtt_base_topic, options.discovery_prefix);
  const store = new StateStore(config.dataDir, log, now);

  let state: BridgeState = { version: 1, day: null, ecus: {}, inverters: {} };
  let link: MqttLink | null = null;
  let checkTimer: NodeJS.Timeout | null = null;
  let haTimer: NodeJS.Timeout | null = null;
  let running = false;
  /**
   * Contact times changed since the last write. They are saved with the next write, at the
   * latest by the periodic check: writing the file for every poll or resent round would wear
   * the SD card of a small board for nothing a crash could spoil (no counter moves).
   */
  let contactUnsaved = false;

  /**
   * An ECU's contact time moved and nothing else: saved later (contactUnsaved), published from
   * the live state only while no write is pending — then the live counters are the ones on disk;
   * otherwise the pending write's publish follows anyway.
   */
  function noteContact(ecu: EcuRecord): void {
    contactUnsaved = true;
    if (store.idle) publisher.publishEcuState(ecu);
  }

  /** Saves the live state; resolves with `pick` of what was written (nothing by default). */
  function save<T = undefined>(
    pick: (written: BridgeState) => T = () => undefined as T,
  ): Promise<T | undefined> {
    contactUnsaved = false;
    return store.save(state, pick);
  }

  const sink: Sink = {
    publish: (topic, payload, retain) => link?.publish(topic, payload, retain),
    enabled: config.settings !== undefined,
  };
  const publisher = new Publisher(sink, { topics, origin: ORIGIN }, config.mode, zone);

  function publishAll(): void {
    for (const ecu of Object.values(state.ecus)) publisher.publishEcu(ecu);
    for (const inv of Object.values(state.inverters)) publisher.publishInverter(inv);
  }

  /** Resets "today" counters when the local date changed; publishes the zeros. */
  function checkRollover(): boolean {
    const today = localDate(now(), zone);
    const previous = state.day;
    if (!rollover(state, today)) return false;
    log.info({ from: previous, to: today, zone }, "new day: energy-today counters reset");
    publishAll();
    return true;
  }

  function handleUpload(upload: UploadMessage): void {
    checkRollover();
    const outcome = applyUpload(state, upload, now(), state.day ?? localDate(now(), zone));
    const ecu = state.ecus[outcome.ecuId];
    if (!ecu) return;
    if (outcome.rejectedLifetime) {
      log.warn(
        { ecu: ecu.id, timestamp: upload.ecu.timestamp, ...outcome.rejectedLifetime },
        "lifetime energy went backwards; value rejected",
      );
    }
    // The server already logs each reading at info; this adds what the bridge made of it.
    log.debug(
      {
        ecu: ecu.id,
        timestamp: upload.ecu.timestamp,
        powerW: upload.ecu.powerW,
        lifetimeKWh: upload.ecu.lifetimeEnergyKWh,
        inverters: upload.inverters.length,
        fresh: outcome.fresh,
        counted: outcome.counted,
      },
      "upload tracked",
    );
    if (!outcome.fresh && !outcome.counted && !outcome.created) {
      // A round already taken (the ECU resends after a missed answer): only contact times moved.
      noteContact(ecu);
      return;
    }
    // Published once the file holds this round, and as the file holds it (StateStore.save).
    const ecuId = ecu.id;
    const uids = outcome.inverters;
    void save((written) => ({
      ecu: structuredClone(written.ecus[ecuId]),
      inverters: uids.flatMap((uid) => {
        const inv = written.inverters[uid];
        return inv ? [structuredClone(inv)] : [];
      }),
    })).then((saved) => {
      if (!running || !saved) return;
      if (saved.ecu) publisher.publishEcu(saved.ecu);
      for (const inv of saved.inverters) publisher.publishInverter(inv);
    });
  }

  function check(): void {
    let changed = checkRollover();
    for (const id of expireOffline(state, now(), offlineMs)) {
      changed = true;
      log.info({ ecu: id, minutes: options.offline_after_minutes }, "no upload: ECU offline");
      const ecu = state.ecus[id];
      if (ecu) publisher.publishEcu(ecu);
      for (const inv of Object.values(state.inverters)) {
        if (inv.ecuId === id) publisher.publishInverter(inv);
      }
    }
    // Removal must reach the broker, so it waits for a connection.
    if (staleMs > 0 && link?.connected) {
      const stale = findStale(state, now(), staleMs);
      for (const uid of stale.inverters) {
        publisher.removeInverter(uid);
        delete state.inverters[uid];
      }
      for (const id of stale.ecus) {
        publisher.removeEcu(id);
        delete state.ecus[id];
      }
      if (stale.ecus.length + stale.inverters.length > 0) {
        changed = true;
        log.info(stale, "removed devices not seen for remove_stale_devices_after_days");
      }
    }
    if (changed || contactUnsaved) void save();
  }

  function onHaStatus(payload: string): void {
    if (payload !== "online" || !running) return;
    if (haTimer) clearTimeout(haTimer);
    haTimer = setTimeout(() => {
      haTimer = null;
      log.info("Home Assistant restarted: re-publishing discovery and states");
      publisher.forgetSentConfigs();
      publishAll();
    }, config.haRestartDelayMs ?? 5000);
    haTimer.unref();
  }

  return {
    setEmaDiagnostics(ema) {
      const before = publisher.ema;
      publisher.ema = { ...ema };
      const reachabilityChanged = before?.emaReachable !== ema.emaReachable;
      // Counters move with every ECU request; states go out with the next upload anyway, so
      // only a change of reachability is worth an immediate publish.
      if (running && (reachabilityChanged || before === undefined)) {
        for (const ecu of Object.values(state.ecus)) publisher.publishEcuState(ecu);
      }
    },
    async start() {
      state = store.load();
      running = true;
      check();
      if (config.settings) {
        const linkOptions = {
          settings: config.settings,
          statusTopic: topics.proxyStatus,
          subscriptions: [options.ha_status_topic],
          logger: log,
          onConnect: () => {
            publisher.forgetSentConfigs();
            publishAll();
          },
          onMessage: (topic: string, payload: string) => {
            if (topic === options.ha_status_topic) onHaStatus(payload);
          },
        };
        link = new MqttLink({
          ...linkOptions,
          ...(config.reconnectMinMs !== undefined && { reconnectMinMs: config.reconnectMinMs }),
          ...(config.reconnectMaxMs !== undefined && { reconnectMaxMs: config.reconnectMaxMs }),
        });
        link.start();
      } else {
        log.info("no MQTT broker configured: readings are only logged");
      }
      checkTimer = setInterval(() => {
        try {
          check();
        } catch (err) {
          log.error({ err }, "periodic check failed");
        }
      }, config.checkIntervalMs ?? 30_000);
      checkTimer.unref();
    },

    handleExchange(exchange) {
      if (!running) return;
      try {
        const message = exchange.message;
        const ecuId = exchangeEcuId(exchange);
        if (ecuId === undefined) return;
        if (message.type === "upload") {
          handleUpload(message);
        } else if (recordContact(state, ecuId, now())) {
          const ecu = state.ecus[ecuId];
          if (ecu) noteContact(ecu);
        }
      } catch (err) {
        log.error({ err }, "cannot publish exchange");
      }
    },

    energyTodayWh(ecuId) {
      const ecu = state.ecus[ecuId];
      if (!ecu) return undefined;
      // Between local midnight and the next periodic check the counters still hold yesterday.
      return state.day === localDate(now(), zone) ? ecu.energyTodayMWh / 1000 : 0;
    },

    async stop() {
      if (!running) return;
      running = false;
      if (checkTimer) clearInterval(checkTimer);
      if (haTimer) clearTimeout(haTimer);
      checkTimer = null;
      haTimer = null;
      void save();
      const current = link;
      link = null;
      await Promise.all([store.flush(), current?.stop()]);
    },
  };
}
