/**
 * Secrets never reach a log line, at any level: the MQTT password (user-set or from the
 * Supervisor) and the Supervisor token, through a full run at trace level — uploads, a bad
 * frame, the status page, a refused login, shutdown — in both log formats.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startProxy } from "../../src/main.js";
import { parseOptions } from "../../src/options/load.js";
import { resolveMqttSettings } from "../../src/supervisor/mqttService.js";
import { FakeSupervisor } from "../addon/fakeSupervisor.js";
import { exited, runCli, startCli } from "../helpers/cli.js";
import { firmwareQuery, SAMPLES, UPLOAD_FILE, uploadWire } from "../helpers/fixtures.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { freePort, Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

const PASSWORD = "pw-Zq8Kx3vLm2";
const TOKEN = "tok-9fJ2hQ7wRt4y";
const USER = "addon";

function assertNoSecret(text: string, what: string): void {
  assert.ok(text.length > 0, `${what}: no log at all`);
  assert.equal(text.includes(PASSWORD), false, `${what}: the MQTT password is in the log`);
  assert.equal(text.includes(TOKEN), false, `${what}: the Supervisor token is in the log`);
}

async function fullRun(format: "pretty" | "json", password: string): Promise<string> {
  const broker = await Mosquitto.start({ username: USER, password: PASSWORD });
  try {
    const dir = mkdtempSync(join(tmpdir(), "secrets-"));
    const port = await freePort();
    const statusPort = await freePort();
    writeFileSync(
      join(dir, "options.json"),
      JSON.stringify({
        log_level: "trace",
        mqtt_host: "127.0.0.1",
        mqtt_port: broker.port,
        mqtt_username: USER,
        mqtt_password: password,
      }),
    );
    const proxy = startCli(
      [
        "serve",
        "--options",
        join(dir, "options.json"),
        "--ports",
        String(port),
        "--host",
        "127.0.0.1",
        "--data-dir",
        join(dir, "data"),
        "--status-port",
        String(statusPort),
        "--status-host",
        "127.0.0.1",
      ],
      { LOG_FORMAT: format, SUPERVISOR_TOKEN: TOKEN },
    );
    try {
      await waitFor(() => proxy.output().includes("listening for ECUs"), "proxy", 15000);
      const watch =
        password === PASSWORD
          ? await MqttWatch.connect(broker.port, { username: USER, password: PASSWORD })
          : undefined;
      await ecuExchange(port, uploadWire(), { expectBytes: 17 });
      await ecuExchange(port, firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin"), { expectBytes: 30 });
      await ecuExchange(port, Buffer.from("garbage\n"), { quietMs: 100 });
      runCli([
        "simulate",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--file",
        join(SAMPLES, UPLOAD_FILE),
      ]);
      await fetch(`http://127.0.0.1:${statusPort}/api/status`).catch(() => undefined);
      if (watch) {
        await watch.waitFor(
          () => watch.messages.some((m) => m.topic.endsWith("/state")),
          "a state",
        );
        await watch.end();
      } else {
        await waitFor(
          () => /not authori[sz]ed|refused|connection error|cannot connect/i.test(proxy.output()),
          "auth failure logged",
          10000,
        );
      }
      proxy.kill("SIGTERM");
      assert.equal((await exited(proxy, 5000)).code, 0);
      return proxy.output();
    } finally {
      proxy.kill("SIGKILL");
    }
  } finally {
    await broker.stop();
  }
}

test("a full run at trace level (readable log) never prints the MQTT password or the token", async () => {
  const log = await fullRun("pretty", PASSWORD);
  assert.match(log, /TRACE|DEBUG/, "the run really logged at the lowest levels");
  assertNoSecret(log, "pretty log");
});

test("a refused broker login at trace level (JSON log) never prints the password or the token", async () => {
  const log = await fullRun("json", `${PASSWORD}-wrong`);
  assertNoSecret(log, "json log");
  assert.equal(log.includes(`${PASSWORD}-wrong`), false);
});

test("credentials from the Supervisor, at trace level, never reach the log", async (t) => {
  const broker = await Mosquitto.start({ username: USER, password: PASSWORD });
  const supervisor = new FakeSupervisor(TOKEN, {
    host: "127.0.0.1",
    port: broker.port,
    ssl: false,
    username: USER,
    password: PASSWORD,
  });
  const baseUrl = await supervisor.listen();
  const logs = captureLogs("trace");
  t.after(async () => {
    supervisor.close();
    await broker.stop();
  });
  const options = parseOptions({ log_level: "trace" });
  const mqtt = await resolveMqttSettings(
    options,
    { SUPERVISOR_TOKEN: TOKEN },
    { logger: logs.logger, baseUrl },
  );
  assert.equal(mqtt?.password, PASSWORD, "the fake Supervisor handed out the credentials");
  const proxy = await startProxy({
    options,
    ...(mqtt ? { mqtt } : {}),
    host: "127.0.0.1",
    ports: [0],
    dataDir: mkdtempSync(join(tmpdir(), "secrets-sup-")),
    logger: logs.logger,
  });
  const watch = await MqttWatch.connect(broker.port, { username: USER, password: PASSWORD });
  await ecuExchange(proxy.server.boundPorts[0] ?? 0, uploadWire(), { expectBytes: 17 });
  await watch.waitFor(() => watch.messages.some((m) => m.topic.endsWith("/state")), "a state");
  await watch.end();
  await proxy.stop();
  assertNoSecret(logs.text(), "in-process trace log");
});
