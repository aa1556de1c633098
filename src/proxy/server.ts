import { createServer, type Server, type Socket } from "node:net";
import { type FastFields, fastInfo, type Logger } from "../log.js";
import { answerFor } from "../protocol/answer.js";
import { decodeFrame } from "../protocol/decode.js";
import { messageEcuId } from "../protocol/ecuId.js";
import { Framer } from "../protocol/framer.js";
import type { DecodeResult } from "../protocol/types.js";
import type { AnswerSource, Exchange, ExchangeListener } from "./exchange.js";
import { summariseUpload } from "./summary.js";

/** Decides what an ECU gets back; the default answers locally (cloudless). */
export type Responder = (request: {
  frame: Buffer;
  message: DecodeResult;
  port: number;
  remote: string;
}) => Promise<{ answer: Buffer | null; answeredBy: AnswerSource }>;

export const localResponder: Responder = async ({ message }) => {
  const answer = message.type === "error" ? null : answerFor(message);
  return { answer, answeredBy: answer ? "proxy" : "none" };
};

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
 * The TCP side: listens on every configured port and answers every message type on every port
 * (the ECU picks 8995/8996 at random; dispatch is by message, not by port).
 */
export class ProxyServer {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly listeners: ExchangeListener[] = [];
  private readonly unknownKindsSeen = new Set<string>();
  private readonly log: Logger;
  /** The one line per upload, written without pino's JSON round trip (log.ts, fastInfo). */
  private readonly logUpload: (fields: FastFields, msg: string) => void;
  private readonly responder: Responder;
  private readonly now: () => number;
  private rejectedLogged = 0;
  private undelivered: Exchange[] = [];
  private stopping = false;

  constructor(private readonly config: ProxyServerConfig) {
    this.log = config.logger.child({ module: "proxy" });
    this.logUpload = fastInfo(config.logger, "proxy");
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
      this.refuse(
        socket,
        remote,
        port,
        `${this.config.maxConnections} connections are open (option max_connections)`,
      );
      return;
    }
    if (fromAddress >= this.config.maxConnectionsPerAddress) {
      this.refuse(
        socket,
        remote,
        port,
        `${fromAddress} connections from this address (option max_connections_per_address)`,
      );
      return;
    }
    this.perAddress.set(remote, fromAddress + 1);
    const connection: Connection = {
      socket,
      queue: Promise.resolve(),
      closed: new Promise((resolve) => socket.once("close", () => resolve())),
    };
    this.connections.add(connection);
    // Made only when this connection logs: most connections log one line, with these fields.
    const where = { remote: `${remote}:${socket.remotePort ?? 0}`, port };
    let child: Logger | undefined;
    const log = (): Logger => {
      child ??= this.log.child(where);
      return child;
    };
    const framer = new Framer(this.config.maxMessageBytes);

    // Nagle could hold back a second answer on one connection until the ECU acknowledges the
    // first (frames sent back to back): answers go out at once.
    socket.setNoDelay(true);
    socket.setTimeout(this.config.idleTimeoutMs);
    socket.on("timeout", () => {
      log().info(
        { idleMs: this.config.idleTimeoutMs },
        "closing idle connection (option idle_timeout_seconds)",
      );
      socket.destroy();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      log().debug({ code: err.code }, `connection error: ${err.message}`);
    });
    socket.once("close", () => {
      this.connections.delete(connection);
      const left = (this.perAddress.get(remote) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(remote);
      else this.perAddress.set(remote, left);
    });
    socket.on("data", (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.kind === "error") {
          log().warn(
            { code: event.code, discarded: event.discarded },
            `rejected input: ${event.detail}${event.fatal ? " — closing the connection" : ""}`,
          );
          if (event.fatal) {
            socket.destroy();
            return;
          }
          continue;
        }
        const frame = event.frame;
        const receivedAt = this.now();
        connection.queue = connection.queue.then(() =>
          this.handleFrame(frame, receivedAt, socket, port, remote, where, log),
        );
      }
    });
  }

  private refuse(socket: Socket, remote: string, port: number, why: string): void {
    // A flood would otherwise flood the log too: the first few refusals, then every 100th.
    this.rejectedLogged++;
    if (this.rejectedLogged <= 5 || this.rejectedLogged % 100 === 0) {
      this.log.warn({ remote, port, refused: this.rejectedLogged }, `refusing connection: ${why}`);
    }
    socket.destroy();
  }

  private async handleFrame(
    frame: Buffer,
    receivedAt: number,
    socket: Socket,
    port: number,
    remote: string,
    where: { remote: string; port: number },
    log: () => Logger,
  ): Promise<void> {
    try {
      const message = decodeFrame(frame);
      const { answer, answeredBy } = await this.responder({ frame, message, port, remote });
      if (answer && !socket.destroyed) socket.write(answer);
      this.logExchange(message, frame, answer, answeredBy, where, log);
      this.deliver({ receivedAt, port, remote, frame, message, answer, answeredBy });
    } catch (err) {
      log().error({ err }, "failed to answer a frame");
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

  private logExchange(
    message: DecodeResult,
    frame: Buffer,
    answer: Buffer | null,
    answeredBy: AnswerSource,
    where: { remote: string; port: number },
    log: () => Logger,
  ): void {
    if (this.log.isLevelEnabled("debug")) {
      log().debug(
        { rawFrame: frame.toString("latin1"), rawAnswer: answer?.toString("latin1") ?? null },
        "raw exchange",
      );
    }
    const answerText = answer ? answer.toString("latin1").replace(/[^\x20-\x7e]/g, ".") : "none";
    if (message.type === "error") {
      log().warn({ code: message.code }, `rejected frame: ${message.detail}`);
      return;
    }
    const ecu = messageEcuId(message);
    // The connection's fields inline, so the usual one line per connection needs no child logger.
    const fields = { ...where, ecu, type: message.type, answer: answerText, by: answeredBy };
    switch (message.type) {
      case "upload":
        // The summary names the ECU and says it is an upload: the line carries no `ecu`/`type`
        // fields, each of which cost measurable time on this hottest line.
        this.logUpload({ ...where, answer: answerText, by: answeredBy }, summariseUpload(message));
        if (this.log.isLevelEnabled("debug")) {
          for (const note of message.notes) log().debug({ ecu }, note);
          log().debug({ upload: message }, "decoded upload");
        }
        return;
      case "unknown":
        if (!this.unknownKindsSeen.has(message.kind)) {
          this.unknownKindsSeen.add(message.kind);
          this.log.info(
            { ...fields, kind: message.kind, rawFrame: message.raw.slice(0, 2000) },
            `unknown message kind ${message.kind}: kept, not answered — please report it with this line`,
          );
        } else {
          this.log.debug({ ...fields, kind: message.kind }, "unknown message kind again");
        }
        return;
      default:
        this.log.info(fields, `${message.type} answered`);
    }
  }
}
