import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { shippedPath } from "../shipped.js";
import { hostHeaderAllowed, isLoopbackHost, plainAddress, type StatusAccess } from "./access.js";
import type { CaptureStore } from "./captures.js";
import { PageConnections } from "./connections.js";
import { buildExport } from "./exportFile.js";
import { STATUS_LIMITS } from "./limits.js";
import type { StatusModel } from "./model.js";

/**
 * The page's files, read once at start. They ship in a `status/page` folder above the running
 * code: `npm run build` (scripts/bundle.mjs) copies src/status/page to dist/status/page.
 */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  "/chart.js": { file: "chart.js", type: "text/javascript; charset=utf-8" },
  "/cards.js": { file: "cards.js", type: "text/javascript; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/icon.svg": { file: "icon.svg", type: "image/svg+xml" },
};

/**
 * Relative URLs only, same origin only: the page works under ingress's path prefix and can load
 * nothing from elsewhere. frame-ancestors 'self' because Home Assistant shows ingress pages in
 * an iframe of its own (same origin).
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface Reply {
  status: number;
  type: string;
  body: string | Buffer;
  cache?: string;
  headers?: Record<string, string>;
}

function text(status: number, message: string): Reply {
  return { status, type: "text/plain; charset=utf-8", body: `${message}\n` };
}

function json(value: unknown): Reply {
  return { status: 200, type: "application/json; charset=utf-8", body: JSON.stringify(value) };
}

export interface StatusServerConfig {
  port: number;
  access: StatusAccess;
  model: StatusModel;
  captures: CaptureStore;
  generator: string;
  logger: Logger;
  now?: () => number;
}

/**
 * The status page's HTTP side (node:http, no framework): the page, `api/status`,
 * `api/captures`, `captures/export`. Read-only: GET and HEAD, nothing else.
 */
export class StatusServer {
  private readonly server: Server;
  private readonly files = new Map<string, Buffer>();
  private readonly connections: PageConnections;
  private readonly log: Logger;
  private refusedLogged = 0;

  constructor(private readonly config: StatusServerConfig) {
    this.log = config.logger.child({ module: "status" });
    const dir = shippedPath("status/page");
    for (const { file } of Object.values(PAGE_FILES)) {
      if (!this.files.has(file)) this.files.set(file, readFileSync(join(dir, file)));
    }
    this.connections = new PageConnections(STATUS_LIMITS.maxConnections, this.log, config.now);
    // Node's header timeout is checked every connectionsCheckingInterval: see limits.ts.
    this.server = createServer(
      {
        headersTimeout: STATUS_LIMITS.headersTimeoutMs,
        requestTimeout: STATUS_LIMITS.idleTimeoutMs,
        connectionsCheckingInterval: STATUS_LIMITS.checkIntervalMs,
      },
      (req, res) => this.handle(req, res),
    );
    this.server.setTimeout(STATUS_LIMITS.idleTimeoutMs);
    this.server.on("connection", (socket) => this.connections.add(socket));
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  async start(): Promise<void> {
    const { host } = this.config.access;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ port: this.config.port, host }, () => {
        this.server.off("error", reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`status page cannot listen on ${host}:${this.config.port}: ${err.code}`);
    });
    const { allowFrom } = this.config.access;
    const who = allowFrom
      ? `only for ${allowFrom.join(", ")}`
      : isLoopbackHost(host)
        ? "only on this machine"
        : "for anyone who can connect";
    this.log.info({ host, port: this.port }, `status page on ${host}:${this.port}, ${who}`);
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Browsers keep connections alive; they must not hold the shutdown up.
    this.connections.closeAll();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const { socket } = req;
    // Told "busy" already: the reply is on its way and the connection closing.
    if (!this.connections.holds(socket)) return;
    this.connections.answeringOn(socket);
    res.once("close", () => this.connections.answered(socket));
    const reply = this.route(req);
    res.writeHead(reply.status, {
      ...SECURITY_HEADERS,
      ...reply.headers,
      "content-type": reply.type,
      "content-length": Buffer.byteLength(reply.body),
      "cache-control": reply.cache ?? "no-store",
    });
    // HEAD gets the headers only.
    res.end(req.method === "HEAD" ? undefined : reply.body);
  }

  private route(req: IncomingMessage): Reply {
    const remote = plainAddress(req.socket.remoteAddress);
    const { allowFrom, host } = this.config.access;
    if (allowFrom && !allowFrom.includes(remote)) {
      this.refused(remote, "not the ingress proxy");
      return text(403, "Forbidden");
    }
    if (isLoopbackHost(host) && !hostHeaderAllowed(req.headers.host)) {
      this.refused(remote, `Host header '${req.headers.host ?? ""}' is not loopback`);
      return text(403, "Forbidden");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return { ...text(405, "Method Not Allowed"), headers: { allow: "GET, HEAD" } };
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const page = PAGE_FILES[path];
    if (page) {
      const body = this.files.get(page.file) ?? Buffer.alloc(0);
      return { status: 200, type: page.type, body, cache: "no-cache" };
    }
    switch (path) {
      case "/api/status":
        return json(this.config.model.snapshot());
      case "/api/captures":
        return json(this.config.captures.list());
      case "/captures/export":
        return this.download();
      default:
        return text(404, "Not Found");
    }
  }

  private download(): Reply {
    const now = (this.config.now ?? Date.now)();
    const body = buildExport(this.config.captures.all(), this.config.generator, now);
    const stamp = new Date(now).toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-");
    return {
      status: 200,
      type: "application/x-ndjson; charset=utf-8",
      body,
      headers: {
        "content-disposition": `attachment; filename="ecu-proxy-captures-${stamp}.jsonl"`,
      },
    };
  }

  private refused(remote: string, why: string): void {
    // Someone scanning the network must not flood the log: the first few, then every 100th.
    this.refusedLogged++;
    if (this.refusedLogged <= 5 || this.refusedLogged % 100 === 0) {
      this.log.warn({ remote, refused: this.refusedLogged }, `status page request refused: ${why}`);
    }
  }
}
