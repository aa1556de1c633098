import type { Server, Socket } from "node:net";
import type { Logger } from "../log.js";
import { decodeFrame } from "../protocol/decode.js";
import { Framer } from "../protocol/framer.js";
import {
  type Connection,
  ConnectionTable,
  MAX_PENDING_FRAMES,
  pauseReading,
  resumeReading,
} from "./connectionTable.js";
import type { Exchange, ExchangeListener } from "./exchange.js";
import { ExchangeLog } from "./exchangeLog.js";
import { listenOn } from "./listen.js";
import { localResponder, type Responder } from "./responder.js";

export interface ProxyServerConfig {
  host: string;
  ports: number[];
  /** Largest frame accepted; a larger one ends the connection (option max_message_kib). */
  maxMessageBytes: number;
  /** A connection silent this long is closed (option idle_timeout_seconds). */
  idleTimeoutMs: number;
  /** Open connections at once, all ports together (option max_connections). */
  maxConnections: number;
  /** Open connections from one address (option max_connections_per_address). */
  maxConnectionsPerAddress: number;
  logger: Logger;
  /** Whether an ECU id passes allowed_ecu_ids (default all): others are logged at debug only. */
  published?: (ecuId: string) => boolean;
  /** What each frame is answered; default the local answer (responder.ts). */
  responder?: Responder;
  now?: () => number;
}

/** How long stop() lets in-flight answers finish before closing sockets. */
const DRAIN_MS = 1000;

/**
 * The TCP side: listens on every configured port, holds connections within the limits, cuts
 * the byte stream into frames and writes each frame's answer in order. Every message type is
 * answered on every port (the ECU picks 8995/8996 at random; dispatch is by message, not by
 * port). What the answer is comes from the responder (responder.ts); what is logged from
 * exchangeLog.ts.
 */
export class ProxyServer {
  private readonly servers: Server[] = [];
  private readonly connections: ConnectionTable;
  private readonly listeners: ExchangeListener[] = [];
  private readonly exchangeLog: ExchangeLog;
  private readonly log: Logger;
  private readonly responder: Responder;
  private readonly now: () => number;
  private undelivered: Exchange[] = [];
  private stopping = false;
  private refused = 0;
  private evicted = 0;

  constructor(private readonly config: ProxyServerConfig) {
    this.exchangeLog = new ExchangeLog(config.logger, config.published);
    this.log = this.exchangeLog.log;
    this.responder = config.responder ?? localResponder;
    this.now = config.now ?? Date.now;
    this.connections = new ConnectionTable(this.now);
  }

  onExchange(listener: ExchangeListener): void {
    this.listeners.push(listener);
  }

  /** Open connections right now. */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Connections closed at once since start because a limit was reached. */
  get refusedConnections(): number {
    return this.refused;
  }

  /** Frames received and not answered yet, all connections together. */
  get pendingFrames(): number {
    let n = 0;
    for (const c of this.connections.all) n += c.pending;
    return n;
  }

  /** Idle connections closed since start to make room for a new one (max_connections). */
  get evictedConnections(): number {
    return this.evicted;
  }

  /** The ports actually bound (differs from the config when it asked for port 0). */
  get boundPorts(): number[] {
    return this.servers.map((s) => {
      const address = s.address();
      return typeof address === "object" && address ? address.port : 0;
    });
  }

  async start(): Promise<void> {
    for (const port of this.config.ports) {
      const server = await listenOn(this.config.host, port, this.config.maxConnections, (s, p) =>
        this.accept(s, p),
      );
      server.on("error", (err) => this.log.error({ err, port }, "listener error"));
      this.servers.push(server);
    }
    this.log.info(
      { host: this.config.host, ports: this.boundPorts },
      `listening for ECUs on ${this.boundPorts.join(", ")}`,
    );
  }

  /** Stops accepting, lets answers in flight finish (≤ 1 s), then closes every connection. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const closed = this.servers.map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    const inFlight = Promise.all([...this.connections.all].map((c) => c.queue));
    await Promise.race([inFlight, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    const gone = [...this.connections.all].map((c) => c.closed);
    for (const c of this.connections.all) c.socket.destroy();
    await Promise.all([...closed, ...gone]);
    this.exchangeLog.flush();
  }

  private accept(socket: Socket, port: number): void {
    const remote = socket.remoteAddress ?? "unknown";
    const fromAddress = this.connections.fromAddress(remote);
    if (this.stopping) {
      socket.destroy();
      return;
    }
    // An address at its own cap is refused before anything is closed for it.
    if (fromAddress >= this.config.maxConnectionsPerAddress) {
      this.refuse(
        socket,
        remote,
        port,
        `${fromAddress} connections from this address (option max_connections_per_address)`,
      );
      return;
    }
    if (this.connections.size >= this.config.maxConnections && !this.makeRoom(remote, port)) {
      this.refuse(
        socket,
        remote,
        port,
        `${this.config.maxConnections} connections are open, each waiting for its answer (option max_connections)`,
      );
      return;
    }
    const connection: Connection = {
      socket,
      remote,
      port,
      log: this.exchangeLog.connection(remote, socket.remotePort ?? 0, port),
      queue: Promise.resolve(),
      closed: new Promise((resolve) => socket.once("close", () => resolve())),
      pending: 0,
      framed: false,
      activeAt: this.now(),
      gone: false,
      paused: false,
    };
    this.connections.add(connection);
    const { log } = connection;
    const framer = new Framer(this.config.maxMessageBytes);

    // Nagle could hold back a second answer on one connection until the ECU acknowledges the
    // first (frames sent back to back): answers go out at once.
    socket.setNoDelay(true);
    socket.setTimeout(this.config.idleTimeoutMs);
    socket.on("timeout", () => {
      log.idleClosed(this.config.idleTimeoutMs);
      socket.destroy();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => log.socketError(err));
    socket.once("close", () => this.connections.forget(connection));
    socket.on("data", (chunk: Buffer) => {
      this.connections.touch(connection);
      for (const event of framer.push(chunk)) {
        if (event.kind === "error") {
          log.rejectedInput(event);
          if (event.fatal) {
            socket.destroy();
            return;
          }
          continue;
        }
        const frame = event.frame;
        const receivedAt = this.now();
        if (connection.pending++ === 0) this.connections.framesPending(connection);
        connection.queue = connection.queue.then(() =>
          this.handleFrame(frame, receivedAt, connection),
        );
      }
      if (connection.pending >= MAX_PENDING_FRAMES) pauseReading(connection);
    });
    socket.on("drain", () => resumeReading(connection));
  }

  private refuse(socket: Socket, remote: string, port: number, why: string): void {
    this.refused++;
    this.exchangeLog.connectionRefused(remote, port, why, this.refused);
    socket.destroy();
  }

  /**
   * At max_connections: closes the connection idle longest without a complete frame, else the
   * one idle longest with every answer written, so that idle connections (a scan, a broken
   * client, a flood from a few dozen addresses under the per-address cap) cannot lock ECUs out
   * until the idle timeout. A connection waiting for its answer is never closed. False when
   * every connection is waiting for its answer.
   */
  private makeRoom(remote: string, port: number): boolean {
    const victim = this.connections.victim();
    if (!victim) return false;
    this.evicted++;
    this.exchangeLog.connectionEvicted(
      victim.log,
      { idleMs: this.now() - victim.activeAt, framed: victim.framed },
      { remote, port, max: this.config.maxConnections, count: this.evicted },
    );
    this.connections.forget(victim);
    victim.socket.destroy();
    return true;
  }

  private async handleFrame(
    frame: Buffer,
    receivedAt: number,
    connection: Connection,
  ): Promise<void> {
    const { socket, port, remote, log } = connection;
    try {
      const message = decodeFrame(frame);
      const { answer, answeredBy, refused } = await this.responder({
        frame,
        message,
        port,
        remote,
        receivedAt,
      });
      const open = !socket.destroyed && !socket.writableEnded;
      if (answer && open && !socket.write(answer)) pauseReading(connection);
      log.exchange(message, frame, answer, answeredBy, refused);
      // Unanswered on purpose: hang up at once, as a server that cannot store the round would,
      // so the ECU keeps it for a later attempt instead of waiting out its timeout.
      if (refused !== undefined) socket.end();
      this.deliver({
        receivedAt,
        port,
        remote,
        frame,
        message,
        answer,
        answeredBy,
        ...(refused !== undefined ? { refused } : {}),
      });
    } catch (err) {
      log.answerFailed(err);
    } finally {
      connection.pending--;
      this.connections.touch(connection);
      if (connection.paused) resumeReading(connection);
    }
  }

  /**
   * Listeners run after the answer is on its way, so nothing they do can delay the ECU: the
   * exchanges of one event-loop turn are handed over together in the next.
   */
  private deliver(exchange: Exchange): void {
    if (this.undelivered.push(exchange) === 1) setImmediate(this.deliverAll);
  }

  private readonly deliverAll = (): void => {
    const exchanges = this.undelivered;
    this.undelivered = [];
    for (const exchange of exchanges) {
      for (const listener of this.listeners) {
        try {
          listener(exchange);
        } catch (err) {
          this.log.error(
            { err, remote: exchange.remote, port: exchange.port },
            "exchange listener failed",
          );
        }
      }
    }
  };
}
