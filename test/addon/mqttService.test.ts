import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../src/log.js";
import { parseOptions } from "../../src/options/load.js";
import { resolveMqttSettings } from "../../src/supervisor/mqttService.js";
import { FakeSupervisor } from "./fakeSupervisor.js";

const TOKEN = "supervisor-token-5f1e9a";
const PASSWORD = "Ahz0quu7ohsh";

const supervisor = new FakeSupervisor(TOKEN, {
  host: "core-mosquitto",
  port: 1883,
  ssl: false,
  username: "addons",
  password: PASSWORD,
});
const seenAuth = supervisor.seenAuth;
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
  baseUrl = await supervisor.listen();
});
after(() => supervisor.close());

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
    supervisor.mode = "ok";
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
    supervisor.mode = "not-enabled";
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
    supervisor.mode = "ok";
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
    supervisor.mode = "hang";
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
    supervisor.dropConnections();
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
    supervisor.mode = "garbage";
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
