/**
 * The broker connection. It never queues: publishing while disconnected is a no-op, and the
 * owner re-publishes its whole current state in `onConnect` (the broker may have restarted and
 * lost every retained message anyway). That keeps memory bounded to "latest state per device"
 * however long the broker is away, and nothing here can delay an ECU answer.
 */
import { randomBytes } from "node:crypto";
import { connect, type IClientOptions, type MqttClient } from "mqtt";
import { describeError, type Logger } from "../log.js";
import { faultReason, faultSummary, retryDelay, seconds } from "./fault.js";

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
  /** A connection that was up closed (the link retries by itself). */
  onDisconnect?: () => void;
  /** `retained`: the broker replayed a stored message rather than passing on a new one. */
  onMessage: (topic: string, payload: string, retained: boolean) => void;
  /** First retry delay; doubles on each failed attempt up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

const STOP_TIMEOUT_MS = 800;

/** Where the link is: `down` carries why the latest attempt failed. */
export type LinkState =
  | { state: "connecting" }
  | { state: "connected" }
  | { state: "down"; problem: string; summary: string };

/**
 * mqtt.js's own retry is off (`reconnectPeriod: 0`): after a refused login (any CONNACK code)
 * mqtt.js 5 stops retrying for good, and its timer cannot back off. The link retries itself,
 * after every failure alike, with a doubling delay up to `reconnectMaxMs`.
 */
export class MqttLink {
  private client: MqttClient | null = null;
  private readonly log: Logger;
  private readonly minMs: number;
  private readonly maxMs: number;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The latest error of the current attempt, read when its connection closes. */
  private lastError: unknown;
  private current: LinkState = { state: "connecting" };

  constructor(private readonly opts: MqttLinkOptions) {
    this.log = opts.logger;
    this.minMs = opts.reconnectMinMs ?? 1000;
    this.maxMs = opts.reconnectMaxMs ?? 60_000;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get state(): LinkState {
    return this.current;
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
      // The link retries by itself; see the class comment.
      reconnectPeriod: 0,
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
      this.current = { state: "connected" };
      this.log.info({ host: settings.host, port: settings.port }, "connected to MQTT broker");
      client.publish(statusTopic, "online", { qos: 1, retain: true });
      if (this.opts.subscriptions.length > 0) {
        client.subscribe([...this.opts.subscriptions], { qos: 1 }, (err) => {
          if (err) this.log.warn({ err }, "MQTT subscribe failed");
        });
      }
      this.opts.onConnect();
    });
    client.on("close", () => {
      if (this.client !== client) return; // our own stop()
      this.closed(client);
    });
    client.on("error", (err) => {
      // Logged when the connection closes, with what happens next.
      this.lastError = err;
    });
    client.on("message", (topic, payload, packet) => {
      try {
        this.opts.onMessage(topic, payload.toString("utf8"), packet.retain);
      } catch (err) {
        this.log.error({ err, topic }, "MQTT message handler failed");
      }
    });
  }

  /** One attempt or connection ended: say so once per change of state or reason, retry later. */
  private closed(client: MqttClient): void {
    const was = this.current;
    const error = this.lastError;
    this.lastError = undefined;
    const handshake = this.opts.settings.tls === true && was.state !== "connected";
    const closedAlone =
      was.state === "connected"
        ? "the broker closed the connection"
        : "the connection closed before the broker accepted the login";
    const problem = error !== undefined ? faultReason(error, handshake) : closedAlone;
    const summary = error !== undefined ? faultSummary(error, handshake) : closedAlone;
    const delay = retryDelay(this.failures++, this.minMs, this.maxMs);
    this.current = { state: "down", problem, summary };
    const host = this.opts.settings.host;
    const next = `retrying in ${seconds(delay)} (then at most every ${seconds(this.maxMs)})`;
    if (was.state === "connected") {
      this.log.warn({ host }, `MQTT connection lost: ${problem}; ${next}`);
      this.opts.onDisconnect?.();
    } else if (was.state !== "down" || was.problem !== problem) {
      this.log.warn({ host }, `MQTT connection error: ${problem}; ${next}`);
    } else {
      this.log.debug(
        { host },
        `MQTT still not connected: ${problem}; retrying in ${seconds(delay)}`,
      );
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.client === client) client.reconnect();
    }, delay);
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
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
