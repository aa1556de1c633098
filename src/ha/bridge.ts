/**
 * Home Assistant's view of the devices: publishes what the device registry says changed (after
 * it is on disk), announces everything again when the broker or Home Assistant restarts, and
 * forgets a device that Home Assistant deleted (until it uploads again). Without MQTT settings
 * it does nothing: readings are then only logged.
 */
import type { InverterControl } from "../control/service.js";
import type { DeviceChange } from "../devices/changes.js";
import type { DeviceRegistry } from "../devices/registry.js";
import type { Logger } from "../log.js";
import { MqttLink, type MqttSettings } from "../mqtt/link.js";
import { controlTopics } from "./control.js";
import { deletedDevice } from "./deletions.js";
import { ORIGIN } from "./origin.js";
import { Publisher, type Sink } from "./publisher.js";
import { makeTopics } from "./topics.js";
import type { EmaDiagnostics, ProxyMode } from "./values.js";

export type { MqttSettings } from "../mqtt/link.js";
export type { ProxyMode } from "./values.js";

export interface HomeAssistantConfig {
  baseTopic: string;
  discoveryPrefix: string;
  /** Home Assistant's birth/last-will topic (option ha_status_topic). */
  haStatusTopic: string;
  /** Zone of the ECUs' clocks: timestamps are published with its offset. */
  zone: string;
  mode: ProxyMode;
  /** Wait after HA's `online` birth message before re-publishing (default 5 s). */
  haRestartDelayMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface BridgeConfig extends HomeAssistantConfig {
  /** Broker to use; `undefined` = no MQTT. */
  settings: MqttSettings | undefined;
  devices: DeviceRegistry;
  logger: Logger;
  /** Option inverter_control: its command topics are subscribed and its states published. */
  control?: InverterControl;
}

export interface HomeAssistantBridge {
  start(): void;
  /** Publishes `offline` and disconnects (about 1 s at most). */
  stop(): Promise<void>;
  /** Forwarding mode: the EMA forwarder's figures for the ECUs' diagnostic sensors. */
  setEmaDiagnostics(ema: EmaDiagnostics): void;
  /** Connected to the broker now. */
  readonly connected: boolean;
  /** When the broker connection last changed, and the last publish (the status page's card). */
  readonly since: number | null;
  /** While not connected: why the latest attempt failed, without the broker's address. */
  readonly problem: string | null;
  readonly lastPublishAt: number | null;
  /** Devices announced since the last (re)connect. */
  readonly announced: number;
}

export function createHomeAssistantBridge(config: BridgeConfig): HomeAssistantBridge {
  const { devices } = config;
  const log = config.logger.child({ module: "mqtt" });
  const topics = makeTopics(config.baseTopic, config.discoveryPrefix);
  let link: MqttLink | null = null;
  let haTimer: NodeJS.Timeout | null = null;
  let running = false;
  let since: number | null = null;
  let lastPublishAt: number | null = null;
  const announced = new Set<string>();

  const sink: Sink = {
    publish: (topic, payload, retain) => {
      if (!link?.connected) return;
      link.publish(topic, payload, retain);
      lastPublishAt = Date.now();
    },
    enabled: config.settings !== undefined,
  };
  const { control } = config;
  const commands = control ? controlTopics(config.baseTopic) : undefined;
  const publisher = new Publisher(
    sink,
    { topics, origin: ORIGIN, ...(commands ? { control: commands } : {}) },
    config.mode,
    config.zone,
  );
  publisher.storageOk = () => devices.storageHealth.ok;
  publisher.control = control;

  /** Home Assistant clears a device's retained config when a user deletes it: watch for that. */
  function watch(configTopic: string): void {
    if (announced.has(configTopic)) return;
    announced.add(configTopic);
    link?.subscribe([configTopic]);
  }

  function publishEcu(id: string): void {
    const ecu = devices.ecu(id);
    if (!ecu || ecu.model === null) return;
    publisher.publishEcu(ecu, devices.inverters(id));
    watch(topics.ecuConfig(id));
  }

  function publishAll(): void {
    for (const ecu of devices.ecus) publishEcu(ecu.id);
    for (const inv of devices.allInverters) {
      publisher.publishInverter(inv);
      watch(topics.inverterConfig(inv.uid));
    }
    for (const ecu of devices.ecus) publisher.publishControl(ecu.id, devices.inverters(ecu.id));
  }

  /**
   * A command from Home Assistant; a topic that is not a command topic is not one of ours. A
   * retained command (HA never retains them) would be replayed at every reconnect and undo
   * later changes: it is ignored.
   */
  function onCommand(topic: string, payload: string, retained: boolean): boolean {
    const request = commands?.parse(topic, payload);
    if (!request || !control) return false;
    if (retained) {
      log.warn(
        { topic },
        "retained message on a command topic ignored: commands must not be retained",
      );
      return true;
    }
    control.request(request, Date.now());
    return true;
  }

  control?.onChange((ecuId, rangesChanged) => {
    if (!running || !sink.enabled) return;
    const inverters = devices.inverters(ecuId);
    // A new range changes the number's min/max, which live in the discovery config.
    if (rangesChanged) for (const inv of inverters) publisher.publishInverter(inv);
    publisher.publishControl(ecuId, inverters);
  });

  function onChange(change: DeviceChange): void {
    if (!running || !sink.enabled) return;
    for (const id of change.removed.ecus) {
      publisher.removeEcu(id);
      announced.delete(topics.ecuConfig(id));
    }
    for (const uid of change.removed.inverters) {
      publisher.removeInverter(uid);
      announced.delete(topics.inverterConfig(uid));
    }
    for (const inv of change.inverters) {
      publisher.publishInverter(inv);
      watch(topics.inverterConfig(inv.uid));
    }
    // With control, an upload can confirm (or contradict) a change: its check is in the state.
    if (control) {
      for (const ecu of change.ecus) publisher.publishControl(ecu.id, devices.inverters(ecu.id));
    }
    // A contact moves only the ECU's state message; discovery and availability are unchanged.
    const contactOnly = change.reasons.length === 1 && change.reasons[0] === "contact";
    for (const ecu of change.ecus) {
      if (ecu.model === null) continue;
      if (contactOnly) publisher.publishEcuState(ecu, devices.inverters(ecu.id));
      else publisher.publishEcu(ecu, devices.inverters(ecu.id));
      watch(topics.ecuConfig(ecu.id));
    }
  }

  function onDeviceConfig(topic: string, payload: string): void {
    const deleted = deletedDevice(topic, payload, config.discoveryPrefix);
    if (!deleted) return;
    const removed = devices.forget(
      deleted.kind === "ecu"
        ? { ecus: [deleted.id], inverters: [] }
        : { ecus: [], inverters: [deleted.id] },
    );
    if (removed.ecus.length + removed.inverters.length > 0) {
      log.info(removed, "Home Assistant deleted the device: forgotten until it uploads again");
    }
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

  devices.onChange(onChange);

  return {
    get connected() {
      return link?.connected ?? false;
    },
    get since() {
      return since;
    },
    get problem() {
      const state = link?.state;
      return state?.state === "down" ? state.summary : null;
    },
    get lastPublishAt() {
      return lastPublishAt;
    },
    get announced() {
      return announced.size;
    },
    setEmaDiagnostics(ema) {
      const before = publisher.ema;
      publisher.ema = { ...ema };
      // Counters move with every ECU request; states go out with the next upload anyway, so
      // only a change of reachability is worth an immediate publish.
      if (running && (before === undefined || before.emaReachable !== ema.emaReachable)) {
        for (const ecu of devices.ecus) publisher.publishEcuState(ecu, devices.inverters(ecu.id));
      }
    },
    start() {
      running = true;
      if (!config.settings) {
        log.info("no MQTT broker configured: readings are only logged");
        return;
      }
      link = new MqttLink({
        settings: config.settings,
        statusTopic: topics.proxyStatus,
        subscriptions: [config.haStatusTopic, ...(commands?.subscriptions ?? [])],
        logger: log,
        onConnect: () => {
          since = Date.now();
          publisher.forgetSentConfigs();
          announced.clear();
          publishAll();
        },
        onDisconnect: () => {
          since = Date.now();
        },
        onMessage: (topic, payload, retained) => {
          if (topic === config.haStatusTopic) onHaStatus(payload);
          else if (!onCommand(topic, payload, retained)) onDeviceConfig(topic, payload);
        },
        ...(config.reconnectMinMs !== undefined && { reconnectMinMs: config.reconnectMinMs }),
        ...(config.reconnectMaxMs !== undefined && { reconnectMaxMs: config.reconnectMaxMs }),
      });
      devices.canRemoveStale = () => link?.connected ?? false;
      link.start();
    },
    async stop() {
      if (!running) return;
      running = false;
      if (haTimer) clearTimeout(haTimer);
      haTimer = null;
      const current = link;
      link = null;
      await current?.stop();
    },
  };
}
