import { type FastFields, fastInfo, type Logger } from "../log.js";
import { messageEcuId } from "../protocol/ecuId.js";
import type { FrameEvent } from "../protocol/framer.js";
import type { DecodeResult } from "../protocol/types.js";
import type { AnswerSource } from "./exchange.js";
import { ExchangeLines } from "./exchangeLines.js";
import { RecentSet } from "./recent.js";
import { summariseUpload } from "./summary.js";

/**
 * Connections refused, or closed to make room, are logged one by one up to LOG_FIRST_REFUSALS;
 * after that every LOG_EVERY_NTH_REFUSAL-th, with the count so far: a flood must not flood the
 * log too.
 */
export const LOG_FIRST_REFUSALS = 5;
export const LOG_EVERY_NTH_REFUSAL = 100;

function logsCount(count: number): boolean {
  return count <= LOG_FIRST_REFUSALS || count % LOG_EVERY_NTH_REFUSAL === 0;
}

/**
 * Unknown message kinds remembered, each logged at info once while remembered: the kind is
 * read from the frame, so a peer could send ever new ones.
 */
export const REMEMBERED_UNKNOWN_KINDS = 100;

/**
 * Inverters read with an inferred layout remembered, each logged at info once while
 * remembered (uids come from the network too); above the default 16 ECUs × 100 inverters.
 */
export const REMEMBERED_INFERRED_INVERTERS = 2000;

/** Characters of an unknown frame in its log line (enough for a report, not a flood). */
export const UNKNOWN_FRAME_LOG_CHARS = 2000;

type FramerError = Extract<FrameEvent, { kind: "error" }>;

/**
 * What the proxy writes about connections and exchanges: one line per answered request (one
 * readable line per upload), each unknown message kind once at info, every rejected input, and
 * refused connections without letting a flood flood the log. The server decides; this words it.
 */
export class ExchangeLog {
  /** The `proxy` module's logger. */
  readonly log: Logger;
  /** The one line per upload, written without pino's JSON round trip (log.ts, fastInfo). */
  readonly logUpload: (fields: FastFields, msg: string) => void;
  readonly unknownKindsSeen = new RecentSet<string>(REMEMBERED_UNKNOWN_KINDS);
  readonly inferredSeen = new RecentSet<string>(REMEMBERED_INFERRED_INVERTERS);
  /** Which exchange lines are written (exchangeLines.ts). */
  readonly lines: ExchangeLines;

  /**
   * `published`: whether an ECU id passes allowed_ecu_ids. Exchanges of other ECUs are logged
   * at debug only: the allow-list names them (a few an hour), a flood of them writes nothing.
   */
  constructor(
    logger: Logger,
    readonly published: (ecuId: string) => boolean = () => true,
  ) {
    this.log = logger.child({ module: "proxy" });
    this.logUpload = fastInfo(logger, "proxy");
    this.lines = new ExchangeLines(this.log);
  }

  /** Writes what the line limits hold back now (at stop). */
  flush(): void {
    this.lines.flush();
  }

  /** The log of one connection from `remote`:`remotePort` to local `port`. */
  connection(remote: string, remotePort: number, port: number): ConnectionLog {
    return new ConnectionLog(this, { remote: `${remote}:${remotePort}`, port });
  }

  /** The `count`-th connection closed at once because a limit is reached. */
  connectionRefused(remote: string, port: number, why: string, count: number): void {
    if (!logsCount(count)) return;
    this.log.warn({ remote, port, refused: count }, `refusing connection: ${why}`);
  }

  /** The `count`-th idle connection closed so that one from `remote` could be taken in. */
  connectionEvicted(
    victim: ConnectionLog,
    state: { idleMs: number; framed: boolean },
    room: { remote: string; port: number; max: number; count: number },
  ): void {
    if (!logsCount(room.count)) return;
    const idle = `idle ${(state.idleMs / 1000).toFixed(1)} s${state.framed ? "" : " without a complete frame"}`;
    this.log.warn(
      { ...victim.where, idleMs: state.idleMs, framed: state.framed, evicted: room.count },
      `closing the connection idle longest (${idle}) to make room for ${room.remote} on port ${room.port}: ${room.max} connections are open (option max_connections)`,
    );
  }
}

/** Where a connection comes from, as its lines name it. */
interface Where {
  remote: string;
  port: number;
}

/** The lines of one connection; its child logger is made only when a line needs one. */
export class ConnectionLog {
  private child: Logger | undefined;

  constructor(
    private readonly owner: ExchangeLog,
    /** Where the connection comes from, as its lines name it. */
    readonly where: Where,
  ) {}

  private get log(): Logger {
    this.child ??= this.owner.log.child(this.where);
    return this.child;
  }

  idleClosed(idleMs: number): void {
    this.log.info({ idleMs }, "closing idle connection (option idle_timeout_seconds)");
  }

  socketError(err: NodeJS.ErrnoException): void {
    this.log.debug({ code: err.code }, `connection error: ${err.message}`);
  }

  rejectedInput(event: FramerError): void {
    this.log.warn(
      { code: event.code, discarded: event.discarded },
      `rejected input: ${event.detail}${event.fatal ? " — closing the connection" : ""}`,
    );
  }

  answerFailed(err: unknown): void {
    this.log.error({ err }, "failed to answer a frame");
  }

  /** One request and its answer. */
  exchange(
    message: DecodeResult,
    frame: Buffer,
    answer: Buffer | null,
    answeredBy: AnswerSource,
    refused?: string,
  ): void {
    const { owner, where } = this;
    if (owner.log.isLevelEnabled("debug")) {
      this.log.debug(
        { rawFrame: frame.toString("latin1"), rawAnswer: answer?.toString("latin1") ?? null },
        "raw exchange",
      );
    }
    const answerText = answer
      ? answer.toString("latin1").replace(/[^\x20-\x7e]/g, ".")
      : refused !== undefined
        ? `none (not confirmed: ${refused})`
        : "none";
    if (message.type === "error") {
      this.log.warn({ code: message.code }, `rejected frame: ${message.detail}`);
      return;
    }
    const ecu = messageEcuId(message);
    // The connection's fields inline, so the usual one line per connection needs no child logger.
    const fields = { ...where, ecu, type: message.type, answer: answerText, by: answeredBy };
    const published = ecu === undefined || owner.published(ecu);
    switch (message.type) {
      case "upload":
        // The summary names the ECU and says it is an upload: the line carries no `ecu`/`type`
        // fields, each of which cost measurable time on this hottest line.
        if (
          published &&
          owner.lines.upload(
            ecu ?? "",
            message.ecu.timestamp,
            answer !== null && refused === undefined,
          )
        ) {
          owner.logUpload(
            { ...where, answer: answerText, by: answeredBy },
            summariseUpload(message),
          );
        } else if (owner.log.isLevelEnabled("debug")) {
          this.log.debug({ answer: answerText, by: answeredBy }, summariseUpload(message));
        }
        // Once per inverter while remembered, within the exchange lines' limit: uids come
        // from the network, so a flood of new ones is counted, not written.
        for (const inv of message.inverters) {
          if (
            published &&
            inv.layoutInferred &&
            owner.inferredSeen.see(inv.uid) &&
            owner.lines.line()
          ) {
            owner.log.info(
              { ecu, inverter: inv.uid, typeCode: inv.typeCode, layout: inv.layoutInferred },
              `inverter ${inv.uid} (${inv.model}) sends type code ${inv.typeCode}, which no source documents: read as type ${inv.layoutInferred} (layout inferred from its id and record length, every value within bounds) — please send a capture (status page, "Download masked captures")`,
            );
          }
        }
        if (owner.log.isLevelEnabled("debug")) {
          for (const note of message.notes) this.log.debug({ ecu }, note);
          this.log.debug({ upload: message }, "decoded upload");
        }
        return;
      case "unknown":
        if (owner.unknownKindsSeen.see(message.kind)) {
          owner.log.info(
            {
              ...fields,
              kind: message.kind,
              rawFrame: message.raw.slice(0, UNKNOWN_FRAME_LOG_CHARS),
            },
            `unknown message kind ${message.kind}: kept, not answered — please report it with this line`,
          );
        } else {
          owner.log.debug({ ...fields, kind: message.kind }, "unknown message kind again");
        }
        return;
      default:
        if (published && owner.lines.line()) owner.log.info(fields, `${message.type} answered`);
        else owner.log.debug(fields, `${message.type} answered`);
    }
  }
}
