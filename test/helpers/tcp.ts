import { connect, createConnection, createServer, type Socket } from "node:net";

/** Like an ECU: connect, send, collect the answer until `expectBytes` arrived (or a pause), close. */
export function ecuExchange(
  port: number,
  data: Buffer | Buffer[],
  opts: { expectBytes?: number; quietMs?: number; timeoutMs?: number; host?: string } = {},
): Promise<Buffer> {
  const { expectBytes, quietMs = 300, timeoutMs = 5000, host = "127.0.0.1" } = opts;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let quiet: NodeJS.Timeout | undefined;
    const socket = connect({ port, host });
    const finish = () => {
      clearTimeout(deadline);
      clearTimeout(quiet);
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const deadline = setTimeout(finish, timeoutMs);
    socket.on("connect", async () => {
      for (const part of Array.isArray(data) ? data : [data]) {
        socket.write(part);
        if (Array.isArray(data)) await new Promise((r) => setTimeout(r, 5));
      }
      if (expectBytes === undefined) quiet = setTimeout(finish, quietMs);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (expectBytes !== undefined && total >= expectBytes) finish();
      else if (expectBytes === undefined) {
        clearTimeout(quiet);
        quiet = setTimeout(finish, quietMs);
      }
    });
    socket.on("error", (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    socket.on("close", () => finish());
  });
}

/** A connection, resolved once connected; `localAddress` picks the source (any 127/8 on Linux). */
export function openSocket(
  port: number,
  host = "127.0.0.1",
  localAddress?: string,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) }, () =>
      resolve(socket),
    );
    socket.on("error", reject);
  });
}

/** Resolves when the peer closes the socket, with the time it took. */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error("socket still open")), timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** A loopback port free right now (for a child process that must be told its port). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on loopback `port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
