/** A test client subscribed to `#` that remembers every message, for asserting on what was sent. */
import { connectAsync, type MqttClient } from "mqtt";

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

export class MqttWatch {
  readonly messages: Seen[] = [];

  private constructor(readonly client: MqttClient) {}

  static async connect(
    port: number,
    auth?: { username: string; password: string },
  ): Promise<MqttWatch> {
    const client = await connectAsync({
      host: "127.0.0.1",
      port,
      ...auth,
      reconnectPeriod: 50,
      clientId: `watch_${Math.random().toString(16).slice(2)}`,
    });
    const watch = new MqttWatch(client);
    // Attach before subscribing, or retained messages can arrive before the handler exists.
    client.on("message", (topic, payload, packet) => {
      watch.messages.push({ topic, payload: payload.toString("utf8"), retain: packet.retain });
    });
    await client.subscribeAsync("#", { qos: 1 });
    return watch;
  }

  /** The last payload seen on `topic`. */
  last(topic: string): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m?.topic === topic) return m.payload;
    }
    return undefined;
  }

  json(topic: string): unknown {
    const text = this.last(topic);
    return text === undefined || text === "" ? undefined : JSON.parse(text);
  }

  count(topic: string): number {
    return this.messages.filter((m) => m.topic === topic).length;
  }

  clear(): void {
    this.messages.length = 0;
  }

  /** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitForJson(
    topic: string,
    check: (value: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ) {
    await this.waitFor(
      () => {
        const v = this.json(topic);
        return typeof v === "object" && v !== null && check(v as Record<string, unknown>);
      },
      `a matching message on ${topic}`,
      timeoutMs,
    );
  }

  async end(): Promise<void> {
    await this.client.endAsync(true);
  }
}
