/**
 * Who is connected, within the limits: open connections per address and in all, and which one
 * makes room at max_connections — the one idle longest without a complete frame, else the one
 * idle longest with every answer written. Two insertion-ordered sets keep the candidates in
 * idle order, so finding one is O(1). A connection waiting for its answer is never chosen.
 */
import type { Socket } from "node:net";
import type { ConnectionLog } from "./exchangeLog.js";

export interface Connection {
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

/**
 * Frames of one connection waiting for their answers before the proxy stops reading from it,
 * until they are answered and the answers taken by the peer: a peer that sends without waiting
 * (or never reads) makes the proxy hold at most this many frames and one read (64 KiB) more. An
 * ECU sends a frame and waits for its answer (protocol.md §1).
 */
export const MAX_PENDING_FRAMES = 32;

export function pauseReading(connection: Connection): void {
  connection.paused = true;
  connection.socket.pause();
}

/** Reads on once the frames held are few enough and the peer has taken its answers. */
export function resumeReading(connection: Connection): void {
  const { socket } = connection;
  if (!connection.paused || connection.pending >= MAX_PENDING_FRAMES) return;
  if (socket.writableNeedDrain) return;
  connection.paused = false;
  socket.resume();
}

export class ConnectionTable {
  readonly all = new Set<Connection>();
  private readonly unframed = new Set<Connection>();
  private readonly settled = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.all.size;
  }

  fromAddress(remote: string): number {
    return this.perAddress.get(remote) ?? 0;
  }

  add(connection: Connection): void {
    this.perAddress.set(connection.remote, this.fromAddress(connection.remote) + 1);
    this.all.add(connection);
    this.unframed.add(connection);
  }

  /** A frame arrived: the connection waits for its answer (no candidate to make room). */
  framesPending(connection: Connection): void {
    (connection.framed ? this.settled : this.unframed).delete(connection);
    connection.framed = true;
  }

  /** Bytes arrived or an answer went out: the connection moves to the end of its idle order. */
  touch(connection: Connection): void {
    connection.activeAt = this.now();
    if (connection.pending > 0 || connection.gone) return;
    const idle = connection.framed ? this.settled : this.unframed;
    idle.delete(connection);
    idle.add(connection);
  }

  /** The connection to close to make room, if any may be closed. */
  victim(): Connection | undefined {
    return this.unframed.values().next().value ?? this.settled.values().next().value;
  }

  /** Takes a closed (or closing) connection out of every count; safe to call twice. */
  forget(connection: Connection): void {
    if (connection.gone) return;
    connection.gone = true;
    this.all.delete(connection);
    this.unframed.delete(connection);
    this.settled.delete(connection);
    const left = this.fromAddress(connection.remote) - 1;
    if (left <= 0) this.perAddress.delete(connection.remote);
    else this.perAddress.set(connection.remote, left);
  }
}
