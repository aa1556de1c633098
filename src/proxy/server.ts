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
  /** Frames of one connection are answered in order. */
  queue: Promise<void>;
  closed: Promise<void>;
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
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly listeners: ExchangeListener[] = [];
  private readonly exchangeLog: ExchangeLog;
  private readonly log: Logger;
  private readonly responder: Responder;
  private readonly now: () => number;
  private undelivered: Exchange[] = [];
  private stopping = false;

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
      server.maxConnections = this.config.maxConnections + 1;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ port, host: this.config.host, backlog: 1024 }, () => {
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
    if (this.connections.size >= this.config.maxConnections) {
      this.exchangeLog.connectionRefused(
        remote,
        port,
        `${this.config.maxConnections} connections are open (option max_connections)`,
      );
      socket.destroy();
      return;
    }
    if (fromAddress >= this.config.maxConnectionsPerAddress) {
      this.exchangeLog.connectionRefused(
        remote,
        port,
        `${fromAddress} connections from this address (option max_connections_per_address)`,
      );
      socket.destroy();
      return;
    }
    this.perAddress.set(remote, fromAddress + 1);
    const connection: Connection = {
      socket,
      queue: Promise.resolve(),
      closed: new Promise((resolve) => socket.once("close", () => resolve())),
    };
    this.connections.add(connection);
    const log = this.exchangeLog.connection(remote, socket.remotePort ?? 0, port);
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
    socket.once("close", () => {
      this.connections.delete(connection);
      const left = (this.perAddress.get(remote) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(remote);
      else this.perAddress.set(remote, left);
    });
    socket.on("data", (chunk: Buffer) => {
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
        connection.queue = connection.queue.then(() =>
          this.handleFrame(frame, receivedAt, socket, port, remote, log),
        );
      }
    });
  }

  private async handleFrame(
    frame: Buffer,
    receivedAt: number,
    socket: Socket,
    port: number,
    remote: string,
    log: ConnectionLog,
  ): Promise<void> {
    try {
      const message = decodeFrame(frame);
      const { answer, answeredBy } = await this.responder({ frame, message, port, remote });
      if (answer && !socket.destroyed) socket.write(answer);
      log.exchange(message, frame, answer, answeredBy);
      this.deliver({ receivedAt, port, remote, frame, message, answer, answeredBy });
    } catch (err) {
      log.answerFailed(err);
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
