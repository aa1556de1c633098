/**
 * The status page's connections within STATUS_LIMITS.maxConnections (issue 18 point 6). At the
 * cap the connection idle longest is closed to make room: one that has not finished a request's
 * headers since it connected or since its last answer, in the order they became idle, so a flood
 * of unfinished requests only ever closes its own oldest and the page's real user gets in. A
 * connection whose answer is still being written is never closed; when every one is, the new
 * connection is told "503 status page busy" and closed.
 */
import type { Socket } from "node:net";
import type { Logger } from "../log.js";
import { LOG_EVERY_NTH_REFUSAL, LOG_FIRST_REFUSALS } from "../proxy/exchangeLog.js";

/** Written to a connection the page cannot take: every connection held is being answered. */
export const BUSY_REPLY =
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n" +
  "retry-after: 5\r\nconnection: close\r\ncontent-length: 34\r\n\r\n" +
  "status page busy: try again soon.\n";

function logsCount(count: number): boolean {
  return count <= LOG_FIRST_REFUSALS || count % LOG_EVERY_NTH_REFUSAL === 0;
}

export class PageConnections {
  /** Insertion-ordered by when each became idle: the first is the one idle longest. */
  private readonly idle = new Map<Socket, number>();
  private readonly answering = new Set<Socket>();
  private closedForRoom = 0;
  private refused = 0;

  constructor(
    private readonly max: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.idle.size + this.answering.size;
  }

  /** Connections closed to make room since start. */
  get evicted(): number {
    return this.closedForRoom;
  }

  /** A new connection: taken in, after making room if the page is at its cap. */
  add(socket: Socket): void {
    socket.once("close", () => this.remove(socket));
    if (this.size >= this.max && !this.makeRoom()) {
      this.refused++;
      if (logsCount(this.refused)) {
        this.log.warn(
          { refused: this.refused, max: this.max },
          `status page busy: ${this.max} connections are being answered; a new one is refused`,
        );
      }
      socket.end(BUSY_REPLY, () => socket.destroy());
      return;
    }
    this.idle.set(socket, this.now());
  }

  /** A request's headers are complete: its connection is not idle until the answer is out. */
  answeringOn(socket: Socket): void {
    this.idle.delete(socket);
    this.answering.add(socket);
  }

  /** The answer is written: the connection is the one idle the shortest. */
  answered(socket: Socket): void {
    if (!this.answering.delete(socket) || socket.destroyed) return;
    this.idle.set(socket, this.now());
  }

  /** Whether `socket` was refused (it may still send a request the page must not answer). */
  holds(socket: Socket): boolean {
    return this.idle.has(socket) || this.answering.has(socket);
  }

  closeAll(): void {
    for (const socket of [...this.idle.keys(), ...this.answering]) socket.destroy();
  }

  private remove(socket: Socket): void {
    this.idle.delete(socket);
    this.answering.delete(socket);
  }

  private makeRoom(): boolean {
    const oldest = this.idle.entries().next().value;
    if (!oldest) return false;
    const [victim, since] = oldest;
    this.remove(victim);
    victim.destroy();
    this.closedForRoom++;
    if (logsCount(this.closedForRoom)) {
      const idleS = ((this.now() - since) / 1000).toFixed(1);
      this.log.warn(
        { evicted: this.closedForRoom, max: this.max, idleMs: this.now() - since },
        `status page: closing the connection idle longest (${idleS} s) to make room: ${this.max} connections are open`,
      );
    }
    return true;
  }
}
