import { setTimeout as sleep } from "node:timers/promises";
import { ecuAddress, transaction } from "./ecuLoad.js";
import type { Broker } from "./mosquitto.js";
import { BASE_TOPIC, mqttOptions } from "./mqttLatency.js";
import { type Started, startProxy, stopProcess } from "./processes.js";
import { rssMiB } from "./procfs.js";
import { StateSubscriber } from "./subscriber.js";
import { ecuTimestamp, generatedUpload } from "./uploads.js";

export interface MemoryResult {
  ecus: number;
  invertersPerEcu: number;
  rounds: number;
  mqtt: boolean;
  /** Distinct inverter state topics the subscriber saw (500 when all were published). */
  invertersPublished: number | null;
  rssAfterStartMiB: number;
  rssWithInvertersMiB: number;
  /** Its private (anonymous) part, MiB. */
  anonWithInvertersMiB: number;
  /** Peak RSS over the process's life (VmHWM). */
  peakRssMiB: number;
  dropped: number;
}

const ECUS = 5;
const INVERTERS = 100;
/** ECU numbers no other measurement uses, so no retained message of theirs is counted here. */
const FIRST_ECU = 100;

/**
 * RSS after 500 distinct inverters have reported: 5 ECUs × 100 inverters, several rounds (the
 * steady state of a big installation), with the MQTT bridge on when a broker is available.
 */
export async function measureMemory(
  dir: string,
  broker: Broker | undefined,
  rounds: number,
): Promise<MemoryResult> {
  let proxy: Started | undefined;
  let subscriber: StateSubscriber | undefined;
  try {
    if (broker) {
      subscriber = await StateSubscriber.connect(broker.port, [`${BASE_TOPIC}/inverter/+/state`]);
    }
    proxy = await startProxy(dir, "memory", broker ? mqttOptions(broker) : {});
    await sleep(500);
    const rssAfterStartMiB = rssMiB(proxy.child.pid);
    const start = Date.now() - 2 * 3600_000;
    let dropped = 0;
    const expected = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      const timestamp = ecuTimestamp(new Date(start + round * 300_000));
      await Promise.all(
        Array.from({ length: ECUS }, async (_, ecu) => {
          const upload = generatedUpload(FIRST_ECU + ecu, INVERTERS, timestamp, round);
          for (const uid of upload.uids) expected.add(`${BASE_TOPIC}/inverter/${uid}/state`);
          const spec = {
            host: "127.0.0.1",
            port: (proxy as Started).port,
            upload: upload.wire,
            answer: upload.answer,
            timeoutMs: 5000,
          };
          if (!(await transaction(spec, ecuAddress(FIRST_ECU + ecu))).ok) dropped++;
        }),
      );
    }
    const invertersPublished = subscriber
      ? await subscriber.waitForTopics((t) => expected.has(t), expected.size, 10_000)
      : null;
    // Let the publishing finish and the heap settle, as it would between two 5-minute rounds.
    await sleep(1000);
    return {
      ecus: ECUS,
      invertersPerEcu: INVERTERS,
      rounds,
      mqtt: broker !== undefined,
      invertersPublished,
      rssAfterStartMiB,
      rssWithInvertersMiB: rssMiB(proxy.child.pid),
      anonWithInvertersMiB: rssMiB(proxy.child.pid, "RssAnon"),
      peakRssMiB: rssMiB(proxy.child.pid, "VmHWM"),
      dropped,
    };
  } finally {
    await subscriber?.close();
    if (proxy) await stopProcess(proxy.child);
  }
}
