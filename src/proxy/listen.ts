import { createServer, type Server, type Socket } from "node:net";

/** Connections the kernel may hold for each port until the proxy takes them in. */
export const LISTEN_BACKLOG = 1024;

/**
 * Listens on one ECU port; `onSocket` gets each connection with the port actually bound (read
 * once: server.address() per connection showed in the profile). Fails with a message that says
 * which address and why.
 */
export async function listenOn(
  host: string,
  port: number,
  maxConnections: number,
  onSocket: (socket: Socket, boundPort: number) => void,
): Promise<Server> {
  let boundPort = port;
  const server = createServer((socket) => onSocket(socket, boundPort));
  // Node's own cap, per port, closes without a word: set above ours, which logs and makes
  // room (server.ts accept()), it only acts should a port get more than all ports together.
  server.maxConnections = maxConnections + 1;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      `cannot listen on ${host}:${port}: ${err.code ?? err.message}` +
        (err.code === "EADDRINUSE" ? " (another program uses this port)" : ""),
    );
  });
  boundPort = (server.address() as { port: number } | null)?.port ?? port;
  return server;
}
