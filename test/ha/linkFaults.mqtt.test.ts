/**
 * The broker link after faults that are not a refused login (issue 18 point 1): a host name
 * that does not resolve (real DNS: `.invalid` never does, RFC 6761), TLS spoken to a plain
 * mosquitto, and a real broker restart. Each is one warning with its reason, retried with a
 * doubling delay, and the link comes back when the broker does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type LinkState, MqttLink, type MqttSettings } from "../../src/mqtt/link.js";
import { captureLogs, waitFor } from "../helpers/logs.js";
import { Mosquitto } from "../helpers/mosquitto.js";

function link(settings: MqttSettings) {
  const { logger, lines } = captureLogs("debug");
  let connects = 0;
  const mqtt = new MqttLink({
    settings,
    statusTopic: "linktest/status",
    subscriptions: [],
    logger,
    onConnect: () => connects++,
    onMessage: () => {},
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
  });
  mqtt.start();
  const faultLines = () => lines.filter((l) => /MQTT (connection|still)/.test(l.msg));
  return { mqtt, lines, faultLines, connects: () => connects };
}

const problem = (state: LinkState) => (state.state === "down" ? state.problem : "");

for (const [name, settings, reason] of [
  ["DNS failure", { host: "mqtt-broker.invalid", port: 1883 }, /does not resolve \(DNS\)/],
] as const) {
  test(`${name}: one warning with the reason, then retries with a capped backoff`, async (t) => {
    const { mqtt, faultLines } = link(settings);
    t.after(() => mqtt.stop());
    await waitFor(() => faultLines().length >= 5, "five failed attempts", 10_000);
    const lines = faultLines();
    assert.equal(lines.filter((l) => l.level === 40).length, 1, "one warning");
    assert.match(lines[0]?.msg ?? "", reason);
    assert.match(problem(mqtt.state), reason);
    const delays = lines.map((l) => Number(/retrying in (\d+) ms/.exec(l.msg)?.[1]));
    assert.deepEqual(delays.slice(0, 5), [50, 100, 200, 400, 400]);
  });
}

test("TLS to a plain broker, then a broker restart: reasons logged, the link comes back", async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.stop());
  const tls = link({ host: "127.0.0.1", port: broker.port, tls: true });
  await waitFor(() => tls.faultLines().length >= 3, "three failed TLS attempts", 10_000);
  await tls.mqtt.stop();
  assert.equal(tls.faultLines().filter((l) => l.level === 40).length, 1, "one warning");
  assert.match(problem(tls.mqtt.state), /^TLS handshake failed .*ECONNRESET/);
  t.diagnostic(`TLS to a plain listener: ${tls.faultLines()[0]?.msg}`);

  const plain = link({ host: "127.0.0.1", port: broker.port });
  t.after(() => plain.mqtt.stop());
  await waitFor(() => plain.connects() === 1, "connected");
  await broker.stop();
  await waitFor(() => plain.faultLines().length >= 3, "a few failed attempts while it is down");
  await broker.start();
  await waitFor(() => plain.connects() === 2, "connected again", 5000);
  assert.equal(plain.mqtt.state.state, "connected");
  const warnings = plain.faultLines().filter((l) => l.level === 40);
  assert.match(warnings[0]?.msg ?? "", /^MQTT connection lost: /);
  assert.ok(warnings.length <= 2, "lost, then perhaps refused: one line per change");
});
