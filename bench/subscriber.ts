import { connectAsync, type MqttClient } from "mqtt";

/**
 * A Home-Assistant-like MQTT client on the bench side: subscribes to the proxy's state topics
 * and lets the bench wait for the next message on one topic.
 */
export class StateSubscriber {
  private readonly waiters = new Map<string, () => void>();
  /** Every topic a message arrived on, for "have all 500 inverters been published?". */
  readonly seen = new Set<string>();

  private constructor(private readonly client: MqttClient) {
    // Handler before subscribing: retained messages can arrive with the SUBACK.
    client.on("message", (topic) => {
      this.seen.add(topic);
      const waiter = this.waiters.get(topic);
      if (waiter) {
        this.waiters.delete(topic);
        waiter();
      }
    });
  }

  static async connect(port: number, topics: string[]): Promise<StateSubscriber> {
    const client = await connectAsync({
      host: "127.0.0.1",
      port,
      reconnectPeriod: 0,
      clientId: `ecu-proxy-bench-${process.pid}`,
    });
    const subscriber = new StateSubscriber(client);
    await client.subscribeAsync(topics, { qos: 0 });
    return subscriber;
  }

  /**
   * Resolves with performance.now() at the next message on `topic`, or undefined after
   * `timeoutMs`. Call it BEFORE triggering the message, so it cannot be missed.
   */
  next(topic: string, timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(topic);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(topic, () => {
        clearTimeout(timer);
        resolve(performance.now());
      });
    });
  }

  /** Waits until `count` topics matching `filter` have been seen, or `timeoutMs` passed. */
  async waitForTopics(
    filter: (topic: string) => boolean,
    count: number,
    timeoutMs: number,
  ): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const n = [...this.seen].filter(filter).length;
      if (n >= count || performance.now() > deadline) return n;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
