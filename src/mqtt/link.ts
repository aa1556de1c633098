/**
 * The broker connection. It never queues: publishing while disconnected is a no-op, and the
 * owner re-publishes its whole current state in `onConnect` (the broker may have restarted and
 * lost every retained message anyway). That keeps memory bounded to "latest state per device"
 * however long the broker is away, and nothing here can delay an ECU answer.
 */
import { randomBytes } from "node:crypto";
import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { describeError, type Logger } from "../log.js";

/** Broker settings as resolved from options or the Supervisor; no host → no MQTT at all. */
export interface MqttSettings {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

export interface MqttLinkOptions {
  settings: MqttSettings;
  /** LWT topic: `offline` retained as last will, `online` retained after each connect. */
  statusTopic: string;
  subscriptions: readonly string[];
  logger: Logger;
  onConnect: () => void;
  /** The connection closed (the link retries by itself). */
  onDisconnect?: () => void;
  /** `retained`: the broker replayed a stored message rather than passing on a new one. */
  onMessage: (topic: string, payload: string, retained: boolean) => void;
  /** First retry delay; doubles on each failed attempt up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

const STOP_TIMEOUT_MS = 800;

export class MqttLink {
  private client: MqttClient | null = null;
  private readonly log: Logger;
  private readonly minMs: number;
  private readonly maxMs: number;
  private failures = 0;

  constructor(private readonly opts: MqttLinkOptions) {
    this.log = opts.logger;
    this.minMs = opts.reconnectMinMs ?? 1000;
    this.maxMs = opts.reconnectMaxMs ?? 60_000;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Starts connecting in the background; retries forever. */
  start(): void {
    const { settings, statusTopic } = this.opts;
    const options: IClientOptions = {
      host: settings.host,
      port: settings.port,
      protocol: settings.tls ? "mqtts" : "mqtt",
      clientId: `apsystems_ecu_proxy_${randomBytes(4).toString("hex")}`,
      clean: true,
      reconnectPeriod: this.minMs,
      connectTimeout: 10_000,
      // Nothing may pile up while offline; see the file comment.
      queueQoSZero: false,
      // mqtt-packet's default pre-builds a Buffer for each of the 65,536 two-byte numbers: ~6 MiB
      // of heap for a client that sends a few messages a minute.
      writeCache: false,
      will: { topic: statusTopic, payload: Buffer.from("offline"), qos: 1, retain: true },
    };
    if (settings.username !== undefined) {
      options.username = settings.username;
      if (settings.password !== undefined) options.password = settings.password;
    } else if (settings.password !== undefined) {
      // MQTT only carries a password together with a user name; mqtt.js would fail silently.
      this.log.warn("an MQTT password is set without a user name; connecting without credentials");
    }
    const client = connect(options);
    this.client = client;

    client.on("connect", () => {
      this.failures = 0;
      client.options.reconnectPeriod = this.minMs;
      this.log.info({ host: settings.host, port: settings.port }, "connected to MQTT broker");
      client.publish(statusTopic, "online", { qos: 1, retain: true });
      if (this.opts.subscriptions.length > 0) {
        client.subscribe([...this.opts.subscriptions], { qos: 1 }, (err) => {
          if (err) this.log.warn({ err }, "MQTT subscribe failed");
        });
      }
      this.opts.onConnect();
    });
    // mqtt.js reads reconnectPeriod when it arms the next retry, which happens after this event.
    client.on("reconnect", () => {
      client.options.reconnectPeriod = Math.min(this.maxMs, this.minMs * 2 ** this.failures);
      this.failures++;
    });
    client.on("close", () => {
      if (this.client === client) this.opts.onDisconnect?.();
      // Once per outage, and not for our own stop().
      if (this.failures === 0 && this.client === client) {
        this.log.warn({ host: settings.host }, "MQTT connection closed; reconnecting");
      }
    });
    client.on("error", (err) => {
      // Logged once per outage; mqtt.js retries by itself.
      const level = this.failures <= 1 ? "warn" : "debug";
      const reason = describeError(err);
      this.log[level]({ err: { message: reason } }, `MQTT connection error: ${reason}`);
    });
    client.on("message", (topic, payload, packet) => {
      try {
        this.opts.onMessage(topic, payload.toString("utf8"), packet.retain);
      } catch (err) {
        this.log.error({ err, topic }, "MQTT message handler failed");
      }
    });
  }

  /** Publishes at QoS 1; dropped while disconnected (the owner re-publishes on connect). */
  publish(topic: string, payload: string, retain = true): void {
    const client = this.client;
    if (!client?.connected) return;
    client.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err) this.log.debug({ err: { message: err.message }, topic }, "MQTT publish failed");
    });
  }

  /** Subscribes now when connected (the owner subscribes again in `onConnect`). */
  subscribe(topics: readonly string[]): void {
    const client = this.client;
    if (!client?.connected || topics.length === 0) return;
    client.subscribe([...topics], { qos: 1 }, (err) => {
      if (err) this.log.debug({ err: { message: describeError(err) } }, "MQTT subscribe failed");
    });
  }

  /** Publishes `offline` (retained) and disconnects; gives up waiting after under a second. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
    if (client.connected) {
      const sent = new Promise<void>((resolve) => {
        client.publish(this.opts.statusTopic, "offline", { qos: 1, retain: true }, () => resolve());
      });
      await Promise.race([sent, deadline]);
    }
    // A late failure of end() must not surface as an unhandled rejection.
    let closed = false;
    const ended = client.endAsync().then(
      () => {
        closed = true;
      },
      (err: Error) => this.log.debug({ err: { message: err.message } }, "MQTT end failed"),
    );
    await Promise.race([ended, deadline]);
    // end() may still wait for in-flight messages; force it after the deadline.
    if (!closed) client.end(true);
  }
}
