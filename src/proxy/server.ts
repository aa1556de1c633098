import { createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../log.js";
import { decodeFrame } from "../protocol/decode.js";
import { Framer } from "../protocol/framer.js";
import type { Exchange, ExchangeListener } from "./exchange.js";
import { type ConnectionLog, ExchangeLog } from "./exchangeLog.js";
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
  /** What each frame is answered; default the local answer (responder.ts). */
  responder?: Responder;
  now?: () => number;
}

interface Connection {
  socket: Socket;
  /** Remote address (without port). */
  remote: string;
  /** Local port. */
  port: number;
  log: ConnectionLog;
  /** Frames of one connection are answered in order. */
  queue: Promise<void>;
  closed: Promise<void>;
  /** Frames received whose answer is not written yet. */
  pending: number;
  /** Whether a complete frame has arrived on this connection. */
  framed: boolean;
  /** Epoch ms of the last byte received or answer written. */
  activeAt: number;
  /** Counted out of the limits already (closed, or closed to make room). */
  gone: boolean;
  /** Reading is paused: MAX_PENDING_FRAMES reached, or the peer has not taken its answers. */
  paused: boolean;
}

/** How long stop() lets in-flight answers finish before closing sockets. */
const DRAIN_MS = 1000;

/**
 * Frames of one connection waiting for their answers before the proxy stops reading from it,
 * until they are answered and the answers taken by the peer: a peer that sends without waiting
 * (or never reads) makes the proxy hold at most this many frames and one read (64 KiB) more. An
 * ECU sends a frame and waits for its answer (protocol.md §1).
 */
export const MAX_PENDING_FRAMES = 32;

/** Connections the kernel may hold for each port until the proxy takes them in. */
const LISTEN_BACKLOG = 1024;

/**
 * The TCP side: listens on every configured port, holds connections within the limits, cuts
 * the byte stream into frames and writes each frame's answer in order. Every message type is
 * answered on every port (the ECU picks 8995/8996 at random; dispatch is by message, not by
 * port). What the answer is comes from the responder (responder.ts); what is logged from
 * exchangeLog.ts.
 */
export class ProxyServer {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  /**
   * The connections that may be closed to make room, least recently active first (a Set keeps
   * insertion order; activity deletes and re-adds): those without a complete frame yet, and
   * those whose answers are all written. A connection waiting for its answer is in neither.
   */
  private readonly unframed = new Set<Connection>();
  private readonly settled = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
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
    this.exchangeLog = new ExchangeLog(config.logger);
    this.log = this.exchangeLog.log;
    this.responder = config.responder ?? localResponder;
    this.now = config.now ?? Date.now;
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
    for (const c of this.connections) n += c.pending;
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
      // The bound port, read once: server.address() per connection showed in the profile.
      let boundPort = port;
      const server = createServer((socket) => this.accept(socket, boundPort));
      // Node's own cap, per port, closes without a word: set above ours, which logs and makes
      // room (accept()), it only acts should a port get more than all ports may have together.
      server.maxConnections = this.config.maxConnections + 1;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ port, host: this.config.host, backlog: LISTEN_BACKLOG }, () => {
          server.off("error", reject);
          resolve();
        });
      }).catch((err: NodeJS.ErrnoException) => {
        throw new Error(
          `cannot listen on ${this.config.host}:${port}: ${err.code ?? err.message}` +
            (err.code === "EADDRINUSE" ? " (another program uses this port)" : ""),
        );
      });
      boundPort = (server.address() as { port: number } | null)?.port ?? port;
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
    const inFlight = Promise.all([...this.connections].map((c) => c.queue));
    await Promise.race([inFlight, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    const gone = [...this.connections].map((c) => c.closed);
    for (const c of this.connections) c.socket.destroy();
    await Promise.all([...closed, ...gone]);
  }

  private accept(socket: Socket, port: number): void {
    const remote = socket.remoteAddress ?? "unknown";
    const fromAddress = this.perAddress.get(remote) ?? 0;
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
    this.perAddress.set(remote, fromAddress + 1);
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
    this.unframed.add(connection);
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
    socket.once("close", () => this.forget(connection));
    socket.on("data", (chunk: Buffer) => {
      this.touch(connection);
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
        if (connection.pending++ === 0) {
          (connection.framed ? this.settled : this.unframed).delete(connection);
          connection.framed = true;
        }
        connection.queue = connection.queue.then(() =>
          this.handleFrame(frame, receivedAt, connection),
        );
      }
      if (connection.pending >= MAX_PENDING_FRAMES) this.pause(connection);
    });
    socket.on("drain", () => this.readOn(connection));
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
    const victim: Connection | undefined =
      this.unframed.values().next().value ?? this.settled.values().next().value;
    if (!victim) return false;
    this.evicted++;
    this.exchangeLog.connectionEvicted(
      victim.log,
      { idleMs: this.now() - victim.activeAt, framed: victim.framed },
      { remote, port, max: this.config.maxConnections, count: this.evicted },
    );
    this.forget(victim);
    victim.socket.destroy();
    return true;
  }

  /** Bytes arrived or an answer went out: the connection moves to the end of its idle order. */
  private touch(connection: Connection): void {
    connection.activeAt = this.now();
    if (connection.pending > 0 || connection.gone) return;
    const idle = connection.framed ? this.settled : this.unframed;
    idle.delete(connection);
    idle.add(connection);
  }

  /** Takes a closed (or closing) connection out of every count; safe to call twice. */
  private forget(connection: Connection): void {
    if (connection.gone) return;
    connection.gone = true;
    this.connections.delete(connection);
    this.unframed.delete(connection);
    this.settled.delete(connection);
    const left = (this.perAddress.get(connection.remote) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(connection.remote);
    else this.perAddress.set(connection.remote, left);
  }

  private async handleFrame(
    frame: Buffer,
    receivedAt: number,
    connection: Connection,
  ): Promise<void> {
    const { socket, port, remote, log } = connection;
    try {
      const message = decodeFrame(frame);
      const { answer, answeredBy } = await this.responder({ frame, message, port, remote });
      if (answer && !socket.destroyed && !socket.write(answer)) this.pause(connection);
      log.exchange(message, frame, answer, answeredBy);
      this.deliver({ receivedAt, port, remote, frame, message, answer, answeredBy });
    } catch (err) {
      log.answerFailed(err);
    } finally {
      connection.pending--;
      this.touch(connection);
      if (connection.paused) this.readOn(connection);
    }
  }

  private pause(connection: Connection): void {
    connection.paused = true;
    connection.socket.pause();
  }

  /** Reads on once the frames held are few enough and the peer has taken its answers. */
  private readOn(connection: Connection): void {
    const { socket } = connection;
    if (!connection.paused || connection.pending >= MAX_PENDING_FRAMES) return;
    if (socket.writableNeedDrain) return;
    connection.paused = false;
    socket.resume();
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
