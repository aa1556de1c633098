import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningProxy, startProxy } from "../../src/main.js";
import { parseOptions } from "../../src/options/load.js";
import { INGRESS_PROXY_ADDRESS, statusAccess } from "../../src/status/access.js";
import { exited, startCli } from "../helpers/cli.js";
import { ECU_FRAMES } from "../helpers/exchanges.js";
import { UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";

const SECRET = "hunter2-Secret-Password-9z";
const TOKEN = "supervisor-token-abc123";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (node:http, so that Host and any method can be set). */
function http(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers ?? {} },
      (res) => {
        let body = "";
        res.setEncoding("latin1");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.method === "POST" || opts.method === "PUT" ? "{}" : undefined);
  });
}

const PATHS = [
  "/",
  "/index.html",
  "/app.js",
  "/style.css",
  "/icon.svg",
  "/api/status",
  "/api/captures",
  "/captures/export",
];

describe("status page outside the add-on (loopback)", () => {
  let running: RunningProxy;
  let port: number;

  before(async () => {
    running = await startProxy({
      // Every secret-looking option set, so a leak of any of them would show.
      options: parseOptions({
        mqtt_host: "broker.lan",
        mqtt_username: "ecu",
        mqtt_password: SECRET,
      }),
      host: "127.0.0.1",
      ports: [0, 0],
      dataDir: mkdtempSync(join(tmpdir(), "status-sec-")),
      statusPort: 0,
      statusAccess: { ingress: false },
      logger: captureLogs("warning").logger,
    });
    port = running.status?.server.port ?? 0;
    // Traffic of every kind, so the API and the export have content to leak from.
    const ecuPort = running.server.boundPorts[0] ?? 0;
    const answer = await ecuExchange(ecuPort, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
    assert.equal(answer.toString(), UPLOAD_ANSWER);
    await ecuExchange(ecuPort, Buffer.from(`${ECU_FRAMES.aps16}\n`), { quietMs: 100 });
    await waitFor(() => running.status?.captures.list().length === 2, "captures");
  });

  after(() => running?.stop());

  test("listens on loopback only", () => {
    const access = statusAccess({ ingress: false });
    assert.equal(access.host, "127.0.0.1");
    assert.equal(access.allowFrom, null);
  });

  test("every page and API answers GET and HEAD, and none contains a secret", async () => {
    for (const path of PATHS) {
      const get = await http(port, path);
      assert.equal(get.status, 200, path);
      assert.ok(!get.body.includes(SECRET), `${path} shows the MQTT password`);
      assert.ok(!get.body.includes("mqtt_password") && !get.body.includes("broker.lan"), path);
      assert.match(String(get.headers["content-security-policy"]), /default-src 'none'/);
      assert.equal(get.headers["x-content-type-options"], "nosniff");
      const head = await http(port, path, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.body, "");
    }
    const status = JSON.parse((await http(port, "/api/status")).body);
    assert.equal(status.ecus.length, 1, "the API has real content");
    const download = await http(port, "/captures/export");
    assert.match(
      String(download.headers["content-disposition"]),
      /^attachment; filename="ecu-proxy-captures-.*\.jsonl"$/,
    );
  });

  test("the page cannot change anything: other methods get 405", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      for (const path of ["/", "/api/status", "/captures/export"]) {
        const reply = await http(port, path, { method });
        assert.equal(reply.status, 405, `${method} ${path}`);
        assert.equal(reply.headers.allow, "GET, HEAD");
      }
    }
    assert.equal(running.status?.captures.list().length, 2, "nothing was changed");
  });

  test("unknown paths and traversal attempts are 404", async () => {
    for (const path of [
      "/../package.json",
      "/page/../../package.json",
      "/options.json",
      "/%2e%2e/package.json",
    ]) {
      assert.equal((await http(port, path)).status, 404, path);
    }
  });

  test("a Host header that is not loopback is refused (DNS rebinding)", async () => {
    const reply = await http(port, "/api/status", { headers: { host: "attacker.example:80" } });
    assert.equal(reply.status, 403);
    assert.equal((await http(port, "/", { headers: { host: `localhost:${port}` } })).status, 200);
  });
});

describe("status page in the add-on", () => {
  test("SUPERVISOR_TOKEN means add-on mode: all interfaces, only the ingress proxy may read", () => {
    const access = statusAccess({}, { SUPERVISOR_TOKEN: TOKEN });
    assert.deepEqual(access, {
      host: "0.0.0.0",
      allowFrom: [INGRESS_PROXY_ADDRESS],
      ingress: true,
    });
  });

  test("a request from anywhere but the ingress proxy is refused (a real process)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "status-addon-"));
    const options = join(dir, "options.json");
    writeFileSync(options, JSON.stringify({ mqtt_password: SECRET }));
    const [ecuPort, statusPort] = [await freePort(), await freePort()];
    // --status-host keeps the test on loopback; the add-on itself listens on all interfaces.
    const child = startCli(
      [
        "serve",
        "--options",
        options,
        "--host",
        "127.0.0.1",
        "--ports",
        String(ecuPort),
        "--data-dir",
        dir,
        "--status-port",
        String(statusPort),
        "--status-host",
        "127.0.0.1",
      ],
      { SUPERVISOR_TOKEN: TOKEN, LOG_FORMAT: "json" },
    );
    try {
      await waitFor(() => child.output().includes("status page on"), "status page start", 15_000);
      for (const path of PATHS) {
        const reply = await http(statusPort, path);
        assert.equal(reply.status, 403, path);
        assert.ok(!reply.body.includes(SECRET) && !reply.body.includes(TOKEN));
      }
      await waitFor(() => child.output().includes("status page request refused"), "refusal logged");
      assert.ok(!child.output().includes(SECRET), "the log shows no secret");
      assert.ok(!child.output().includes(TOKEN), "the log shows no token");
    } finally {
      child.kill("SIGTERM");
      await exited(child, 5000);
    }
  });
});

describe("status page failures", () => {
  test("a status port in use costs the page, not the proxy", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    const taken = (blocker.address() as { port: number }).port;
    const logs = captureLogs("info");
    const running = await startProxy({
      options: parseOptions({}),
      host: "127.0.0.1",
      ports: [0],
      dataDir: mkdtempSync(join(tmpdir(), "status-taken-")),
      statusPort: taken,
      statusAccess: { ingress: false },
      logger: logs.logger,
    });
    try {
      assert.equal(running.status, undefined);
      assert.match(logs.text(), /status page not started: .*EADDRINUSE/);
      const port = running.server.boundPorts[0] ?? 0;
      const answer = await ecuExchange(port, uploadWire(), { expectBytes: UPLOAD_ANSWER.length });
      assert.equal(answer.toString(), UPLOAD_ANSWER);
    } finally {
      await running.stop();
      blocker.close();
    }
  });
});
