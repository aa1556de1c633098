import { ecuAddress, transaction } from "./ecuLoad.js";
import type { Broker } from "./mosquitto.js";
import { type Started, startProxy, stopProcess } from "./processes.js";
import { type LatencySummary, summarise } from "./stats.js";
import { StateSubscriber } from "./subscriber.js";
import { ecuTimestamp, generatedUpload } from "./uploads.js";

export const BASE_TOPIC = "apsystems_ecu_proxy";

/** The options that turn the proxy's MQTT bridge on, pointed at the bench's broker. */
export function mqttOptions(broker: Broker): Record<string, unknown> {
  return { mqtt_host: "127.0.0.1", mqtt_port: broker.port, mqtt_base_topic: BASE_TOPIC };
}

export interface MqttLatencyResult extends LatencySummary {
  ecus: number;
  /** Uploads answered but with no state message within the timeout. */
  missing: number;
  /** Uploads not answered correctly. */
  dropped: number;
}

const ECUS = 10;

/** The proxy took the MQTT options but published no state (no bridge in this build). */
export class NoStatePublished extends Error {
  constructor() {
    super("the proxy published no state message: no MQTT bridge in this build");
  }
}
const WAIT_MS = 2000;

/**
 * Upload → MQTT state: one upload at a time (2 inverters, like the real capture), from 10
 * ECUs in turn, each newer than that ECU's last so the proxy publishes it; the clock runs from
 * the ECU's connect to the state message arriving at a subscribed client (as HA would see it).
 * A first round per ECU (discovery, first-seen work) is not counted.
 */
export async function measureMqttLatency(
  dir: string,
  broker: Broker,
  uploads: number,
): Promise<MqttLatencyResult> {
  let proxy: Started | undefined;
  let subscriber: StateSubscriber | undefined;
  try {
    subscriber = await StateSubscriber.connect(broker.port, [`${BASE_TOPIC}/ecu/+/state`]);
    proxy = await startProxy(dir, "mqtt-latency", mqttOptions(broker));
    const start = Date.now() - 2 * 3600_000;
    const latencies: number[] = [];
    let missing = 0;
    let dropped = 0;
    let warmed = 0;
    for (let i = 0; i < uploads + ECUS; i++) {
      const ecu = i % ECUS;
      const upload = generatedUpload(ecu, 2, ecuTimestamp(new Date(start + i * 1000)), i);
      const topic = `${BASE_TOPIC}/ecu/${upload.ecuId}/state`;
      const arrived = subscriber.next(topic, WAIT_MS);
      const sent = performance.now();
      const outcome = await transaction(
        {
          host: "127.0.0.1",
          port: proxy.port,
          upload: upload.wire,
          answer: upload.answer,
          timeoutMs: 5000,
        },
        ecuAddress(ecu),
      );
      const at = await arrived;
      if (i < ECUS) {
        if (at !== undefined) warmed++;
        // No state after a whole first round: this build has no MQTT bridge, nothing to time.
        if (i === ECUS - 1 && warmed === 0) throw new NoStatePublished();
        continue;
      }
      if (!outcome.ok) dropped++;
      if (at === undefined) missing++;
      else latencies.push(at - sent);
    }
    return { ...summarise(latencies), ecus: ECUS, missing, dropped };
  } finally {
    await subscriber?.close();
    if (proxy) await stopProcess(proxy.child);
  }
}
