/**
 * Broker faults around the real program (issue 18 point 1), with a real password-protected
 * mosquitto: the broker restarts and refuses the proxy's login for a while (as the Mosquitto app
 * does while Home Assistant, which checks its logins, restarts), then accepts it again. The
 * proxy must come back by itself within its backoff and announce everything again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { exited, startCli } from "../helpers/cli.js";
import { ECU_ID, UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { waitFor } from "../helpers/logs.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";

const PROXY = { username: "ecu-proxy", password: "right-password" };
const WATCHER = { username: "watcher", password: "watcher-password" };
const ECU_CONFIG = `homeassistant/device/apsystems_ecu_${ECU_ID}/config`;
const STATUS = "apsystems_ecu_proxy/status";

interface HaSummary {
  connected: boolean;
  problem: string | null;
}

async function haSummary(statusPort: number): Promise<HaSummary> {
  const res = await fetch(`http://127.0.0.1:${statusPort}/api/status`);
  return ((await res.json()) as { homeAssistant: HaSummary }).homeAssistant;
}

/** The delay the proxy's latest retry line announced, ms. */
function lastAnnouncedDelay(output: string): number {
  const all = [...output.matchAll(/retrying in ([\d.]+) s/g)];
  const last = all.at(-1)?.[1];
  assert.ok(last, "a retry line");
  return Number(last) * 1000;
}

test("a broker that refuses the login, then accepts it, is rejoined within the backoff; discovery re-published", async (t) => {
  const broker = await Mosquitto.start(PROXY);
  await broker.setPassword(WATCHER.username, WATCHER.password);
  const watch = await MqttWatch.connect(broker.port, WATCHER);
  const dir = mkdtempSync(join(tmpdir(), "broker-faults-"));
  const port = await freePort();
  const statusPort = await freePort();
  writeFileSync(
    join(dir, "options.json"),
    JSON.stringify({
      log_level: "debug",
      timezone: "Europe/Amsterdam",
      mqtt_host: "127.0.0.1",
      mqtt_port: broker.port,
      mqtt_username: PROXY.username,
      mqtt_password: PROXY.password,
    }),
  );
  const proxy = startCli([
    "serve",
    "--options",
    join(dir, "options.json"),
    "--data-dir",
    join(dir, "data"),
    "--ports",
    String(port),
    "--host",
    "127.0.0.1",
    "--status-port",
    String(statusPort),
  ]);
  t.after(async () => {
    proxy.kill("SIGKILL");
    await watch.end();
    await broker.stop();
  });
  await waitFor(() => proxy.output().includes("listening for ECUs"), "proxy listening", 15_000);
  const answer = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
  assert.equal(answer.toString("latin1"), UPLOAD_ANSWER);
  await watch.waitFor(() => watch.last(ECU_CONFIG) !== undefined, "ECU discovery", 10_000);

  // The broker restarts (its retained messages gone) and refuses the proxy's login.
  await broker.stop();
  await broker.setPassword(PROXY.username, "changed-for-a-while");
  const refusedFrom = proxy.output().length;
  watch.clear();
  await broker.start();
  await waitFor(
    () => /not authori[sz]ed/i.test(proxy.output().slice(refusedFrom)),
    "the refusal logged",
    15_000,
  );
  // Refused again after the first refusal (0.3.0 never tried again), with a growing delay.
  const refusals = () =>
    proxy
      .output()
      .slice(refusedFrom)
      .split("\n")
      .filter((l) => / (WARN|DEBUG) .*not authori[sz]ed/i.test(l));
  await waitFor(() => refusals().length >= 2, "a second refused attempt", 10_000);
  const refusalLines = refusals();
  assert.match(refusalLines[0] ?? "", /WARN .*not authori[sz]ed \(CONNACK code 5\); retrying in/);
  assert.equal(
    refusalLines.filter((l) => l.includes("WARN")).length,
    1,
    `one warning for the whole refusal, repeats at debug level:\n${refusalLines.join("\n")}`,
  );
  const during = await haSummary(statusPort);
  assert.equal(during.connected, false);
  assert.match(during.problem ?? "", /refused the login: not authori[sz]ed/);
  assert.equal(watch.last(ECU_CONFIG), undefined, "nothing announced while refused");

  // The login works again.
  const delay = lastAnnouncedDelay(proxy.output());
  const fixedAt = Date.now();
  await broker.setPassword(PROXY.username, PROXY.password);
  await watch.waitFor(
    () => watch.last(ECU_CONFIG) !== undefined && watch.last(STATUS) === "online",
    "discovery and online after the login works again",
    delay + 3000,
  );
  const rejoinMs = Date.now() - fixedAt;
  assert.ok(rejoinMs <= delay + 1500, `rejoined ${rejoinMs} ms after the fix (backoff ${delay})`);
  await waitFor(
    () => proxy.output().slice(refusedFrom).includes("connected to MQTT broker"),
    "the reconnect logged",
  );
  const after = await haSummary(statusPort);
  assert.deepEqual(after, { ...after, connected: true, problem: null });
  t.diagnostic(
    `refused ${refusalLines.length} times (one WARN line); rejoined ${rejoinMs} ms after the login worked again (announced backoff ${delay} ms); ECU discovery re-published`,
  );

  proxy.kill("SIGTERM");
  assert.equal((await exited(proxy, 5000)).code, 0);
});
