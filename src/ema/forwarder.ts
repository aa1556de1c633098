import { networkInterfaces as osInterfaces } from "node:os";
import type { Logger } from "../log.js";
import { noCommandsAnswer } from "../protocol/answers/controlPoll.js";
import type { AnswerSource } from "../proxy/exchange.js";
import { localResponder, type Responder, type ResponderRequest } from "../proxy/responder.js";
import { inspectControlAnswer, isFirmwareTransfer } from "./guard.js";
import { RelayError, relay } from "./relay.js";
import {
  dnsServerResolver,
  type HostResolver,
  type InterfaceList,
  isOwnAddress,
  UpstreamAddress,
} from "./upstream.js";

/**
 * Forwarding mode (option forward_to_ema): every ECU frame goes to EMA on the port it arrived on,
 * and EMA's answer goes back to the ECU byte for byte. The server decodes and publishes the
 * upload either way; this only decides the answer. When EMA cannot be reached in time (or the
 * upstream address would loop back to us) the ECU gets the local answer, exactly as in cloudless
 * mode, so it never notices EMA being away. See docs/forwarding.md and guard.ts for what
 * block_firmware_updates keeps from the ECU.
 */

/** Diagnostics for "EMA reachable" and "answers from EMA / from proxy" sensors. */
export interface EmaStats {
  /** undefined until the first forwarding attempt. */
  emaReachable: boolean | undefined;
  /** Answers that came from EMA (with blocked commands removed, if any). */
  answersFromEma: number;
  /** Answers produced locally: EMA away, a loop refused, or a firmware query/offer blocked. */
  answersFromProxy: number;
  /** Why the last forwarding attempt failed (kept after EMA is back, for the record). */
  lastEmaError: string | undefined;
  /** Epoch ms of `lastEmaError`. */
  lastEmaErrorAt: number | undefined;
  /** Firmware queries not forwarded plus EMA commands removed (option block_firmware_updates). */
  blockedOffers: number;
}

export type EmaStatsListener = (stats: EmaStats) => void;

/** The read side the rest of the program sees (RunningProxy.ema). */
export interface EmaStatus {
  readonly stats: EmaStats;
  /** Called after every change; returns a function that removes the listener. */
  onStatsChange(listener: EmaStatsListener): () => void;
}

export interface EmaForwarderConfig {
  /** Option ema_host: a host name (resolved via `dnsServer`) or an IP. */
  host: string;
  /** Option ema_dns_server: the only resolver asked for `host`. */
  dnsServer: string;
  /** Option ema_timeout_seconds × 1000: DNS, connect and answer together. */
  timeoutMs: number;
  /** Option block_firmware_updates. */
  blockFirmwareUpdates: boolean;
  logger: Logger;
  /** The ports this proxy listens on right now (for loop detection). */
  listeningPorts: () => number[];
  /** EMA port for a request that arrived on `localPort`; default: the same port. */
  upstreamPort?: (localPort: number) => number;
  /**
   * The local answers (proxy/responder.ts) the ECU gets when EMA does not answer or an answer is
   * blocked; default: stateless (every upload confirmed, no commands).
   */
  local?: Responder;
  /**
   * EMA answered this request and its answer went to the ECU unchanged: an upload is then EMA's
   * to keep, and the proxy stores it for itself in the background.
   */
  onEmaAnswered?: (request: ResponderRequest) => void;
  /** Replaces the DNS query to `dnsServer` (tests). */
  resolve?: HostResolver;
  /** This machine's interfaces (default `os.networkInterfaces()`). */
  networkInterfaces?: () => InterfaceList;
  /** Pause after EMA's last bytes that ends its answer (default 150 ms). */
  quietMs?: number;
  now?: () => number;
}

/** The forwarder's settings from the add-on options. */
class LoopError extends Error {}

const LF = Buffer.from("\n");
const DEFAULT_QUIET_MS = 150;

export class EmaForwarder implements EmaStatus {
  readonly responder: Responder;
  private readonly local: Responder;
  private readonly log: Logger;
  private readonly upstream: UpstreamAddress;
  private readonly upstreamPort: (localPort: number) => number;
  private readonly interfaces: () => InterfaceList;
  private readonly quietMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<EmaStatsListener>();
  private readonly inFlight = new Set<AbortController>();
  private readonly state: EmaStats = {
    emaReachable: undefined,
    answersFromEma: 0,
    answersFromProxy: 0,
    lastEmaError: undefined,
    lastEmaErrorAt: undefined,
    blockedOffers: 0,
  };
  private closed = false;

  constructor(private readonly config: EmaForwarderConfig) {
    this.log = config.logger.child({ module: "ema" });
    this.now = config.now ?? Date.now;
    this.upstream = new UpstreamAddress(
      config.host,
      config.resolve ?? dnsServerResolver(config.dnsServer, config.timeoutMs),
      this.now,
    );
    this.upstreamPort = config.upstreamPort ?? ((port) => port);
    this.interfaces = config.networkInterfaces ?? osInterfaces;
    this.quietMs = config.quietMs ?? DEFAULT_QUIET_MS;
    this.local = config.local ?? localResponder;
    this.responder = (request) => this.respond(request);
  }

  get stats(): EmaStats {
    return { ...this.state };
  }

  onStatsChange(listener: EmaStatsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Cancels requests still waiting for EMA (their ECUs get the local answer). */
  close(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
  }

  /** A line for the start-up log. */
  describe(): string {
    const via = this.upstream.isName ? ` (resolved via ${this.config.dnsServer})` : "";
    const blocking = this.config.blockFirmwareUpdates
      ? "firmware offers and EMA commands are blocked"
      : "firmware offers and EMA commands are passed to the ECU (block_firmware_updates is off)";
    return `forwarding to EMA at ${this.config.host}${via}; local answers when EMA does not answer within ${this.config.timeoutMs / 1000} s; ${blocking}`;
  }

  private async respond(request: ResponderRequest) {
    const { frame, message, port } = request;
    if (this.config.blockFirmwareUpdates && isFirmwareTransfer(frame)) {
      const local = await this.local(request);
      const what =
        message.type === "firmware_query" ? `firmware query for ${message.path}` : "ECU11 frame";
      this.log.info(
        { port },
        `${what} not forwarded to EMA (option block_firmware_updates): answered locally${message.type === "firmware_query" ? ' with "file does not exist"' : ""}`,
      );
      this.state.blockedOffers++;
      return this.answered(local.answer, local.answeredBy);
    }
    if (this.closed) return this.fallback(request);

    let answer: Buffer;
    try {
      answer = await this.forward(frame, port);
    } catch (err) {
      if (!(err instanceof RelayError && err.reason === "aborted")) this.failed(err);
      return this.fallback(request);
    }
    this.reached();

    if (this.config.blockFirmwareUpdates) {
      const { commands, safe } = inspectControlAnswer(answer);
      if (commands.length > 0) {
        this.state.blockedOffers++;
        let replacement: Buffer | null;
        let by: AnswerSource;
        if (message.type === "control_poll") {
          replacement = noCommandsAnswer(message.ecuId);
          by = "proxy";
        } else if (safe.length > 0) {
          replacement = Buffer.concat(safe);
          by = "ema";
        } else {
          const local = await this.local(request);
          replacement = local.answer;
          by = local.answeredBy;
        }
        this.log.info(
          { port, commands, ecu: "ecuId" in message ? message.ecuId : undefined },
          `EMA sent command ${commands.join(", ")} — blocked (option block_firmware_updates): the ECU gets ${
            message.type === "control_poll"
              ? '"no commands"'
              : safe.length > 0
                ? "EMA's answer without the command"
                : "the local answer"
          }`,
        );
        return this.answered(replacement, by);
      }
    }
    this.config.onEmaAnswered?.(request);
    return this.answered(answer, "ema");
  }

  private async forward(frame: Buffer, localPort: number): Promise<Buffer> {
    const started = this.now();
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      const address = await this.withDeadline(this.upstream.lookup(), this.config.timeoutMs, () =>
        Error(
          `resolving ${this.config.host} via ${this.config.dnsServer} took longer than ${this.config.timeoutMs} ms`,
        ),
      );
      const port = this.upstreamPort(localPort);
      if (this.config.listeningPorts().includes(port) && isOwnAddress(address, this.interfaces())) {
        throw new LoopError(
          `refusing to forward: EMA address ${address}:${port}${this.upstream.isName ? ` (${this.config.host} via ${this.config.dnsServer})` : ""} is this proxy itself — forwarding would loop. Set option ema_host to EMA's real address (e.g. 3.67.1.32) or ema_dns_server to a DNS server that does not rewrite ${this.config.host}`,
        );
      }
      // The ECU ends every APS (and JSON) frame with an LF that the framer strips (§2); ECU11
      // frames are binary with an exact length and get none.
      const first = frame[0];
      const data = first === 0x41 || first === 0x7b ? Buffer.concat([frame, LF]) : frame;
      return await relay({
        host: address,
        port,
        data,
        timeoutMs: Math.max(1, this.config.timeoutMs - (this.now() - started)),
        limitMs: this.config.timeoutMs,
        quietMs: this.quietMs,
        signal: controller.signal,
      });
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private withDeadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(error()), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private async fallback(request: ResponderRequest) {
    const local = await this.local(request);
    return this.answered(local.answer, local.answeredBy, local.refused);
  }

  private answered(answer: Buffer | null, answeredBy: AnswerSource, refused?: string) {
    if (answer && answeredBy === "ema") this.state.answersFromEma++;
    else if (answer && answeredBy === "proxy") this.state.answersFromProxy++;
    this.changed();
    return { answer, answeredBy, ...(refused !== undefined ? { refused } : {}) };
  }

  private reached(): void {
    const before = this.state.emaReachable;
    this.state.emaReachable = true;
    if (before === false) this.log.info("EMA answers again: forwarding its answers to the ECU");
    else if (before === undefined) this.log.info("EMA answered: forwarding works");
  }

  private failed(err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    const before = this.state.emaReachable;
    this.state.emaReachable = false;
    this.state.lastEmaError = reason;
    this.state.lastEmaErrorAt = this.now();
    // Warn once per change to unreachable; the ECU keeps getting local answers meanwhile.
    if (before !== false) {
      this.log.warn(
        err instanceof LoopError
          ? `${reason}. Answering locally, as in cloudless mode`
          : `EMA not reachable (${reason}) — answering locally, as in cloudless mode, until it answers again`,
      );
    } else {
      this.log.debug({ reason }, "EMA still not reachable; answered locally");
    }
  }

  private changed(): void {
    const snapshot = this.stats;
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        this.log.error({ err }, "EMA stats listener failed");
      }
    }
  }
}
