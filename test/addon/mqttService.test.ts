import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../src/log.js";
import { parseOptions } from "../../src/options/load.js";
import { resolveMqttSettings } from "../../src/supervisor/mqttService.js";

const TOKEN = "supervisor-token-5f1e9a";
const PASSWORD = "Ahz0quu7ohsh";

/**
 * A loopback stand-in for the Supervisor's `GET /services/mqtt`, answering as documented
 * (supervisor api/services.py, api/utils.py api_process, api/middleware/security.py): 401 text
 * without a bearer token, 403 for an unknown token, 400 `{"result":"error","message":"Service
 * not enabled"}` when no add-on provides MQTT, else 200 `{"result":"ok","data":{...}}`.
 */
type Mode = "ok" | "not-enabled" | "hang" | "garbage";
let mode: Mode = "ok";
const seenAuth: (string | undefined)[] = [];

function supervisor(req: IncomingMessage, res: ServerResponse): void {
  seenAuth.push(req.headers.authorization);
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const auth = req.headers.authorization;
  if (!auth?.startsWith("Bearer ")) {
    res.writeHead(401, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("401: Unauthorized");
    return;
  }
  if (auth !== `Bearer ${TOKEN}`) {
    res.writeHead(403, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("403: Forbidden");
    return;
  }
  if (req.method !== "GET" || req.url !== "/services/mqtt") {
    json(404, { result: "error", message: "Not found" });
    return;
  }
  switch (mode) {
    case "ok":
      json(200, {
        result: "ok",
        data: {
          addon: "core_mosquitto",
          host: "core-mosquitto",
          port: 1883,
          ssl: false,
          protocol: "3.1.1",
          username: "addons",
          password: PASSWORD,
        },
      });
      return;
    case "not-enabled":
      json(400, { result: "error", message: "Service not enabled" });
      return;
    case "garbage":
      json(200, { result: "ok", data: { host: "", port: "x" } });
      return;
    case "hang":
      return; // never answers; the client's timeout must end the wait
  }
}

let server: Server;
let baseUrl: string;
let logText = "";

function logger() {
  return createLogger({
    level: "debug",
    destination: new Writable({
      write(chunk, _enc, done) {
        logText += String(chunk);
        done();
      },
    }),
  });
}

before(async () => {
  server = createServer(supervisor);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe("resolveMqttSettings", () => {
  test("the user's mqtt_host wins; port defaults to 1883, or 8883 with TLS", async () => {
    const deps = { logger: logger(), baseUrl };
    const env = { SUPERVISOR_TOKEN: TOKEN };
    const before = seenAuth.length;
    assert.deepEqual(
      await resolveMqttSettings(
        parseOptions({ mqtt_host: "broker.lan", mqtt_username: "u", mqtt_password: "p" }),
        env,
        deps,
      ),
      {
        host: "broker.lan",
        port: 1883,
        tls: false,
        username: "u",
        password: "p",
      },
    );
    assert.deepEqual(
      await resolveMqttSettings(parseOptions({ mqtt_host: "b", mqtt_tls: true }), env, deps),
      { host: "b", port: 8883, tls: true },
    );
    assert.deepEqual(
      await resolveMqttSettings(parseOptions({ mqtt_host: "b", mqtt_port: 1884 }), env, deps),
      { host: "b", port: 1884, tls: false },
    );
    assert.equal(seenAuth.length, before, "the Supervisor is not asked");
  });

  test("empty mqtt_host + SUPERVISOR_TOKEN: uses the Supervisor's MQTT service", async () => {
    mode = "ok";
    logText = "";
    const settings = await resolveMqttSettings(
      parseOptions({ mqtt_host: "" }),
      { SUPERVISOR_TOKEN: TOKEN },
      { logger: logger(), baseUrl },
    );
    assert.deepEqual(settings, {
      host: "core-mosquitto",
      port: 1883,
      tls: false,
      username: "addons",
      password: PASSWORD,
    });
    assert.equal(seenAuth.at(-1), `Bearer ${TOKEN}`);
    assert.match(logText, /using the MQTT broker from the Supervisor/);
    assert.ok(!logText.includes(TOKEN) && !logText.includes(PASSWORD), "no secrets in the log");
  });

  test("'Service not enabled' (no Mosquitto add-on): undefined and a hint in the log", async () => {
    mode = "not-enabled";
    logText = "";
    const settings = await resolveMqttSettings(
      parseOptions({}),
      { SUPERVISOR_TOKEN: TOKEN },
      { logger: logger(), baseUrl },
    );
    assert.equal(settings, undefined);
    assert.match(logText, /no MQTT broker add-on is installed/);
    assert.match(logText, /status=400/);
    assert.ok(!logText.includes(TOKEN));
  });

  test("a token the Supervisor refuses: undefined, status in the log, token not", async () => {
    mode = "ok";
    logText = "";
    const settings = await resolveMqttSettings(
      parseOptions({}),
      { SUPERVISOR_TOKEN: "wrong-token-value" },
      { logger: logger(), baseUrl },
    );
    assert.equal(settings, undefined);
    assert.match(logText, /status=403/);
    assert.ok(!logText.includes("wrong-token-value"));
  });

  test("the fake answers 401 without a token, as the Supervisor does", async () => {
    const res = await fetch(`${baseUrl}/services/mqtt`);
    assert.equal(res.status, 401);
  });

  test("a Supervisor that does not answer: undefined after the timeout", async () => {
    mode = "hang";
    logText = "";
    const started = Date.now();
    const settings = await resolveMqttSettings(
      parseOptions({}),
      { SUPERVISOR_TOKEN: TOKEN },
      { logger: logger(), baseUrl, timeoutMs: 300 },
    );
    assert.equal(settings, undefined);
    assert.ok(Date.now() - started < 3000);
    assert.match(logText, /cannot reach the Supervisor/);
    server.closeAllConnections();
  });

  test("no Supervisor at all (connection refused): undefined", async () => {
    logText = "";
    const settings = await resolveMqttSettings(
      parseOptions({}),
      { SUPERVISOR_TOKEN: TOKEN },
      { logger: logger(), baseUrl: "http://127.0.0.1:1" },
    );
    assert.equal(settings, undefined);
    assert.match(logText, /cannot reach the Supervisor/);
  });

  test("an answer without a usable broker: undefined", async () => {
    mode = "garbage";
    const settings = await resolveMqttSettings(
      parseOptions({}),
      { SUPERVISOR_TOKEN: TOKEN },
      { logger: logger(), baseUrl },
    );
    assert.equal(settings, undefined);
  });

  test("no mqtt_host and no SUPERVISOR_TOKEN: undefined, runs without MQTT", async () => {
    logText = "";
    const settings = await resolveMqttSettings(parseOptions({}), {}, { logger: logger(), baseUrl });
    assert.equal(settings, undefined);
    assert.match(logText, /running without MQTT/);
  });
});
