import { createServer, type Server, type Socket } from "node:net";

/**
 * A stand-in for the EMA cloud on loopback, answering as protocol.md describes EMA:
 * - uploads (8995/8996): `101` + the *previous* record's timestamp, i.e. the upload's own
 *   timestamp minus 5 minutes (§4.2) — deliberately not what the local proxy answers;
 * - the nightly sync `APS13AAA22<id>`: `101` + the last timestamp it stored, `100` if none (§5);
 * - the 8997 control poll: a frame with `A100` (no commands) or with `command` (§7);
 * - the A123 status query: the status answer, optionally followed by a command frame (§7);
 * - an ECU11 download query (9220): "file exists" — a firmware offer (§8).
 * It records every connection and the exact bytes it received.
 */

export interface EmaRequest {
  port: number;
  /** The request as received, LF included. */
  data: Buffer;
}

export interface FakeEmaBehaviour {
  /** Wait this long before answering. */
  delayMs: number;
  /** Command EMA has queued for the ECU (control polls carry it instead of A100). */
  command: string | undefined;
  /** A command frame appended to the A123 status answer. */
  statusCommand: string | undefined;
  /** Send the answer in pieces, this many ms apart (0: in one write). */
  splitMs: number;
  /** Add an LF after control answers (protocol.md §13 U6: unknown whether EMA does). */
  trailingLf: boolean;
  /** Close the connection on a request instead of answering. */
  hangUp: boolean;
  /** Replaces the protocol answers entirely. */
  answer: ((request: Buffer) => Buffer | null) | undefined;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** `YYYYMMDDhhmmss` minus 5 minutes. */
export function fiveMinutesBefore(ts: string): string {
  const d = new Date(
    Date.UTC(
      +ts.slice(0, 4),
      +ts.slice(4, 6) - 1,
      +ts.slice(6, 8),
      +ts.slice(8, 10),
      +ts.slice(10, 12),
      +ts.slice(12, 14),
    ) - 300_000,
  );
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
}

/** An `APS13` frame with the exact length field the ECU checks (§7). */
export function apsFrame(command: string, sequence: string, ecuId: string, body: string): Buffer {
  const rest = `${command}${sequence}${ecuId}${body}END`;
  return Buffer.from(`APS13${pad(10 + rest.length, 5)}${rest}`, "latin1");
}

/** A control answer carrying `command` (§7): bytes 10..13 `A101`, the command at 30..33. */
export function commandFrame(ecuId: string, command: string): Buffer {
  return apsFrame("A101", "AAA0", ecuId, `${command}20240206112214`);
}

/** ECU11 "file exists" answer: exists 1, 4-byte size, 2-byte CRC (§8) — an update offer. */
export const FILE_EXISTS_ANSWER = Buffer.concat([
  Buffer.from("ECU11003000010001END1", "latin1"),
  Buffer.from([0x00, 0x02, 0x10, 0x00, 0x5a, 0xa5]),
  Buffer.from("END", "latin1"),
]);

export class FakeEma {
  readonly behaviour: FakeEmaBehaviour = {
    delayMs: 0,
    command: undefined,
    statusCommand: undefined,
    splitMs: 0,
    trailingLf: false,
    hangUp: false,
    answer: undefined,
  };
  /** Connections accepted, per port. */
  readonly connections: number[] = [];
  readonly requests: EmaRequest[] = [];
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly stored = new Map<string, string>();

  get totalConnections(): number {
    return this.connections.reduce((a, b) => a + b, 0);
  }

  get ports(): number[] {
    return this.servers.map((s) => (s.address() as { port: number }).port);
  }

  async start(count = 1): Promise<this> {
    for (let i = 0; i < count; i++) {
      const index = i;
      this.connections.push(0);
      const server = createServer((socket) => this.accept(socket, index));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      this.servers.push(server);
    }
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }

  private accept(socket: Socket, index: number): void {
    this.connections[index] = (this.connections[index] ?? 0) + 1;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const port = this.ports[index] ?? 0;
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const size = requestSize(buffer);
        if (size === undefined || buffer.length < size) return;
        const request = buffer.subarray(0, size);
        buffer = buffer.subarray(size);
        this.requests.push({ port, data: Buffer.from(request) });
        if (this.behaviour.hangUp) {
          socket.destroy();
          return;
        }
        const answer = this.behaviour.answer
          ? this.behaviour.answer(request)
          : this.answer(request);
        if (answer) void this.send(socket, answer);
      }
    });
  }

  private async send(socket: Socket, answer: Buffer): Promise<void> {
    const { delayMs, splitMs } = this.behaviour;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (splitMs > 0 && answer.length > 1) {
      const half = Math.floor(answer.length / 2);
      if (!socket.destroyed) socket.write(answer.subarray(0, half));
      await new Promise((r) => setTimeout(r, splitMs));
      if (!socket.destroyed) socket.write(answer.subarray(half));
    } else if (!socket.destroyed) {
      socket.write(answer);
    }
  }

  /** EMA's answer per protocol.md (see the class comment). */
  private answer(request: Buffer): Buffer | null {
    const text = request.toString("latin1").replace(/\n$/, "");
    const lf = this.behaviour.trailingLf ? "\n" : "";
    if (text.startsWith("ECU11") && text.slice(9, 17) === "00010001") return FILE_EXISTS_ANSWER;
    if (text.startsWith("APS18")) {
      const ecuId = text.slice(18, 30);
      const ts = text.slice(60, 74);
      this.stored.set(ecuId, ts);
      return Buffer.from(`101${fiveMinutesBefore(ts)}`, "latin1");
    }
    if (text.startsWith("APS13") && text.slice(5, 10) === "AAA22") {
      const last = this.stored.get(text.slice(10, 22));
      return Buffer.from(last ? `101${last}` : "100", "latin1");
    }
    const ecuId = text.slice(18, 30);
    if (text.startsWith("APS13") && text.slice(10, 14) === "A101") {
      const { command } = this.behaviour;
      const frame = command
        ? commandFrame(ecuId, command)
        : apsFrame("A101", "AAA0", ecuId, `A100${"0".repeat(14)}`);
      return Buffer.concat([frame, Buffer.from(lf)]);
    }
    if (text.slice(10, 14) === "A123") {
      const status = Buffer.from("APS1300024A123AAA0100END", "latin1");
      const extra = this.behaviour.statusCommand
        ? commandFrame(ecuId, this.behaviour.statusCommand)
        : Buffer.alloc(0);
      return Buffer.concat([status, extra, Buffer.from(lf)]);
    }
    return null;
  }
}

/** Bytes of the first complete request in `data` (APS + LF, ECU11 by length, JSON to LF). */
function requestSize(data: Buffer): number | undefined {
  const text = data.toString("latin1", 0, Math.min(data.length, 10));
  if (text.startsWith("APS") && text.length === 10) {
    return Number(text.slice(5, 10).replace(/A/g, "0")) + 1;
  }
  if (text.startsWith("ECU") && text.length >= 9) return Number(text.slice(5, 9));
  const lf = data.indexOf(0x0a);
  return lf === -1 ? undefined : lf + 1;
}

/** A loopback port nobody listens on (connections to it are refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
