import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { ROOT } from "./cli.js";

/** Debian's chromium (.ci/run installs it); playwright's own browser download is not used. */
export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(ROOT, "test-artifacts");

export const chromiumMissing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;

/**
 * Headless chromium with the flags known to work on these machines: without the
 * background-networking flags it keeps trying to reach Google's hosts, which the sandbox's
 * closed network refuses. A new empty profile each time (playwright passes it as --user-data-dir).
 */
export function launchChromium(viewport = { width: 1100, height: 900 }): Promise<BrowserContext> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chromium-")), {
    executablePath: CHROMIUM,
    viewport,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A stand-in for Home Assistant's ingress proxy: serves the page below
 * `/api/hassio_ingress/<token>/` and forwards to the add-on with the prefix stripped and
 * X-Ingress-Path set, as the Supervisor does. Proves the page uses relative URLs only.
 */
export async function ingressProxy(
  targetPort: number,
  token = "t0k3n",
): Promise<{ server: Server; url: string }> {
  const prefix = `/api/hassio_ingress/${token}`;
  const server = createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(404).end("not an ingress path\n");
      return;
    }
    const upstream = request(
      {
        host: "127.0.0.1",
        port: targetPort,
        method: req.method,
        path: req.url.slice(prefix.length),
        headers: { ...req.headers, host: `127.0.0.1:${targetPort}`, "x-ingress-path": prefix },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}${prefix}/` };
}
