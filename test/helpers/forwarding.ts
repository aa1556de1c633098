import { EmaForwarder, type EmaForwarderConfig } from "../../src/ema/forwarder.js";
import type { Exchange } from "../../src/proxy/exchange.js";
import { ProxyServer } from "../../src/proxy/server.js";
import { captureLogs } from "./logs.js";

export interface Forwarding {
  server: ProxyServer;
  forwarder: EmaForwarder;
  ports: number[];
  exchanges: Exchange[];
  logs: ReturnType<typeof captureLogs>;
  stop(): Promise<void>;
}

/**
 * A ProxyServer on loopback (random ports) answering through an EmaForwarder, as main.ts wires
 * it in forwarding mode. `upstream(i)` names the EMA port for the proxy's i-th port.
 */
export async function startForwarding(
  config: Partial<Omit<EmaForwarderConfig, "upstreamPort">> & {
    upstream?: (index: number, localPort: number) => number;
    portCount?: number;
  } = {},
): Promise<Forwarding> {
  const logs = captureLogs("debug");
  const exchanges: Exchange[] = [];
  const { upstream, portCount = 3, ...rest } = config;
  let server: ProxyServer | undefined;
  const forwarder = new EmaForwarder({
    host: "127.0.0.1",
    dnsServer: "127.0.0.1",
    timeoutMs: 1000,
    blockFirmwareUpdates: true,
    logger: logs.logger,
    listeningPorts: () => server?.boundPorts ?? [],
    quietMs: 60,
    ...(upstream
      ? {
          upstreamPort: (localPort: number) =>
            upstream(server?.boundPorts.indexOf(localPort) ?? -1, localPort),
        }
      : {}),
    ...rest,
  });
  server = new ProxyServer({
    host: "127.0.0.1",
    ports: Array.from({ length: portCount }, () => 0),
    maxMessageBytes: 64 * 1024,
    idleTimeoutMs: 5000,
    maxConnections: 50,
    maxConnectionsPerAddress: 40,
    logger: logs.logger,
    responder: forwarder.responder,
  });
  await server.start();
  server.onExchange((e) => exchanges.push(e));
  const running = server;
  return {
    server: running,
    forwarder,
    ports: running.boundPorts,
    exchanges,
    logs,
    async stop() {
      await running.stop();
      forwarder.close();
    },
  };
}
