/**
 * What reaches Home Assistant can be trusted (issues 12 and 13), over the real program
 * (`ecu-proxy serve` as a process), real TCP and a real mosquitto: old and future rounds,
 * lifetime outliers, deleted devices, and the proxy's own energy counters across kill -9.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import { captureBytes } from "../helpers/captures.js";
import { exited, serveCli } from "../helpers/cli.js";
import { ECU_ID, uploadFrame } from "../helpers/fixtures.js";
import { tempDir } from "../helpers/haHarness.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";

dayjs.extend(utc);
dayjs.extend(timezone);

const ZONE = "Europe/Amsterdam";
const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;
const QS1 = "806000011223";
const QS1_STATE = `apsystems_ecu_proxy/inverter/${QS1}/state`;
const QS1_CONFIG = `homeassistant/device/apsystems_inverter_${QS1}/config`;
const ECU_CONFIG = `homeassistant/device/apsystems_ecu_${ECU_ID}/config`;
/** The capture's QS1 channel energies, Wh, as mWh. */
const QS1_CHANNEL_MWH = [2309, 3070, 3569, 3437];

/** The real capture with its time (and lifetime) rewritten at the wire offsets (protocol.md §3.1). */
function round(
  at: dayjs.Dayjs,
  lifetimeKWh: number | null = 2127.9,
  frame = uploadFrame(),
  ecuId = ECU_ID,
): Buffer {
  let text = frame.toString("latin1").replace(/\n$/, "");
  const put = (offset: number, value: string) => {
    text = text.slice(0, offset) + value + text.slice(offset + value.length);
  };
  put(18, ecuId);
  if (lifetimeKWh !== null) put(50, String(Math.round(lifetimeKWh * 10)).padStart(10, "0"));
  put(60, at.tz(ZONE).format("YYYYMMDDHHmmss"));
  return Buffer.from(`${text}\n`, "latin1");
}

let broker: Mosquitto;
let watch: MqttWatch;

before(async () => {
  broker = await Mosquitto.start();
  watch = await MqttWatch.connect(broker.port);
});
after(async () => {
  await watch?.end();
  await broker?.stop();
});

const serve = (dataDir: string, port: number, extra: Record<string, unknown> = {}) =>
  serveCli(
    { timezone: ZONE, mqtt_host: "127.0.0.1", mqtt_port: broker.port, ...extra },
    dataDir,
    port,
  );

async function send(port: number, frame: Buffer): Promise<void> {
  const answer = await ecuExchange(port, frame, { expectBytes: 17 });
  assert.match(answer.toString("latin1"), /^101\d{14}$/);
}

function channelLifetimes(): number[] {
  const state = watch.json(QS1_STATE) as { channels: Array<{ lifetime_energy: number }> };
  return state.channels.map((c) => Math.round(c.lifetime_energy * 1e6));
}

test("old rounds are not live, a future round freezes nothing, a lifetime spike never reaches HA", async () => {
  const dir = tempDir("trust-");
  const port = await freePort();
  const proxy = await serve(dir, port);
  try {
    // The 2024 capture as the first round this proxy sees: counted, never shown as live.
    await send(port, Buffer.concat([uploadFrame(), Buffer.from("\n")]));
    await watch.waitFor(() => watch.last(QS1_STATE) !== undefined, "inverter state");
    assert.equal((watch.json(ECU_STATE) as { power: unknown }).power, null);
    assert.equal((watch.json(QS1_STATE) as { online: string }).online, "OFF");
    await watch.waitFor(() => proxy.output().includes("backlog"), "the log says why");

    const now = dayjs();
    await send(port, round(now.subtract(1, "minute")));
    await watch.waitForJson(ECU_STATE, (s) => s.power === 190 && s.lifetime_energy === 2127.9);
    // One round two hours ahead: refused — not confirmed, so the ECU keeps it — and the correct
    // rounds after it stay live.
    const ahead = await ecuExchange(port, round(now.add(2, "hour"), 2128.0), { expectBytes: 17 });
    assert.equal(ahead.length, 0, "a round dated ahead gets no answer: the connection is closed");
    await send(port, round(now, 2128.0));
    await watch.waitForJson(ECU_STATE, (s) => s.lifetime_energy === 2128);
    await watch.waitFor(() => proxy.output().includes("ahead of the clock"), "the log says why");
    // A spike of the ECU's lifetime counter between two normal readings.
    await send(port, round(now.add(1, "minute"), 99_999));
    await send(port, round(now.add(2, "minute"), 2128.1));
    await watch.waitForJson(ECU_STATE, (s) => s.lifetime_energy === 2128.1);
    const seen = watch.messages
      .filter((m) => m.topic === ECU_STATE && m.payload !== "")
      .map((m) => (JSON.parse(m.payload) as { lifetime_energy: number | null }).lifetime_energy);
    assert.ok(!seen.includes(99_999), "the spike was never published");
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
});

test("per-panel and per-inverter lifetime counters survive kill -9 and restarts and equal the rounds' sum", async () => {
  const dir = tempDir("counters-");
  const port = await freePort();
  const start = dayjs().subtract(3, "hour");
  const firstMessage = watch.messages.length;
  let proxy = await serve(dir, port);
  let rounds = 0;
  const sendRounds = async (n: number, resend = false) => {
    for (let i = 0; i < n; i++) {
      await send(port, round(start.add(rounds * 5, "minute")));
      if (resend) await send(port, round(start.add(rounds * 5, "minute")));
      rounds++;
    }
  };
  await sendRounds(4, true);
  await watch.waitFor(
    () => channelLifetimes()[0] === 4 * (QS1_CHANNEL_MWH[0] ?? 0),
    "four rounds counted once each",
  );
  proxy.kill("SIGKILL");
  await exited(proxy, 5000);
  proxy = await serve(dir, port);
  // Out of order: a later round first, then the ones before it, and one already counted.
  await send(port, round(start.add(7 * 5, "minute")));
  await sendRounds(3);
  await send(port, round(start.add(0, "minute")));
  rounds = 8;
  proxy.kill("SIGTERM");
  await exited(proxy, 5000);
  proxy = await serve(dir, port);
  await sendRounds(2);
  try {
    const expected = QS1_CHANNEL_MWH.map((mwh) => rounds * mwh);
    await watch.waitFor(
      () => channelLifetimes().join() === expected.join(),
      `channel lifetimes ${expected.join()}`,
    );
    const inverter = watch.json(QS1_STATE) as { lifetime_energy: number };
    assert.equal(
      Math.round(inverter.lifetime_energy * 1e6),
      expected.reduce((a, b) => a + b, 0),
    );
    // Never went down in any message Home Assistant got.
    const series = watch.messages
      .slice(firstMessage)
      .filter((m) => m.topic === QS1_STATE && m.payload !== "")
      .map((m) => (JSON.parse(m.payload) as { lifetime_energy: number }).lifetime_energy);
    for (let i = 1; i < series.length; i++) {
      assert.ok((series[i] ?? 0) >= (series[i - 1] ?? 0), `message ${i} went down`);
    }
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
});

test("a device deleted in Home Assistant stays deleted after an HA restart, until it uploads again", async () => {
  const dir = tempDir("deleted-");
  const port = await freePort();
  const proxy = await serve(dir, port);
  try {
    const configs = () =>
      watch.messages.filter((m) => m.topic === ECU_CONFIG && m.payload !== "").length;
    const before = configs();
    await send(port, round(dayjs()));
    await watch.waitFor(() => configs() > before, "ECU announced by this process");
    // The proxy subscribes to the config it announced right after publishing it.
    await new Promise((r) => setTimeout(r, 300));
    // What Home Assistant does when a user deletes the device: clears its retained config.
    await watch.client.publishAsync(ECU_CONFIG, "", { retain: true, qos: 1 });
    await watch.waitFor(() => proxy.output().includes("forgotten"), "the proxy forgets it");
    await watch.waitFor(() => watch.last(QS1_CONFIG) === "", "its inverters go with it");
    const announcedBefore = configs();
    // Home Assistant restarts: everything still known is announced again, the deleted ECU not.
    await watch.client.publishAsync("homeassistant/status", "online", { qos: 1 });
    await new Promise((r) => setTimeout(r, 6500));
    assert.equal(configs(), announcedBefore);
    // Its next upload brings it back.
    await send(port, round(dayjs().add(1, "second")));
    await watch.waitFor(() => (watch.last(ECU_CONFIG) ?? "") !== "", "announced again");
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
});

test("W×100 header power with no decodable inverter record reaches HA as 190 W, not 19,000 W", async () => {
  const dir = tempDir("x100-");
  const port = await freePort();
  const proxy = await serve(dir, port);
  const frame = captureBytes(
    "synthetic/ecu-r-2160_upload_2inv_20240206_fw-ecu3-header_type-codes-01-03_synthetic",
  );
  const ecuId = "216000064199";
  const state = `apsystems_ecu_proxy/ecu/${ecuId}/state`;
  try {
    await send(port, round(dayjs(), null, frame, ecuId));
    await watch.waitFor(() => watch.last(state) !== undefined, "ECU state");
    assert.equal((watch.json(state) as { power: unknown }).power, 190);
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
});

test("max_ecus: made-up ECU ids beyond the limit are answered but never reach Home Assistant", async () => {
  const dir = tempDir("max-ecus-");
  const port = await freePort();
  const proxy = await serve(dir, port, { max_ecus: 2 });
  const ids = ["216000070001", "216000070002", "216000070003", "216000070004"];
  const config = (id: string) => `homeassistant/device/apsystems_ecu_${id}/config`;
  try {
    for (const id of ids) await send(port, round(dayjs(), 2127.9, uploadFrame(), id));
    await watch.waitFor(() => ids.slice(0, 2).every((id) => watch.last(config(id))), "two ECUs");
    await watch.waitFor(() => proxy.output().includes("216000070004 not tracked"), "log");
    // Their inverters (the same uids) belong to the tracked ECUs; no device for the others.
    assert.equal(watch.last(config("216000070003")), undefined);
    assert.equal(watch.last(config("216000070004")), undefined);
    assert.equal(proxy.output().split("max_ecus (2) reached").length - 1, 2, "one line per id");
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
});

test("an unreachable broker is logged with its reason (dual-stack refusals have an empty message)", async () => {
  const dir = tempDir("no-broker-");
  const port = await freePort();
  const closed = await freePort();
  const proxy = await serve(dir, port, { mqtt_host: "localhost", mqtt_port: closed });
  try {
    await watch.waitFor(() => proxy.output().includes("MQTT connection error"), "error line");
    const line =
      proxy
        .output()
        .split("\n")
        .find((l) => l.includes("MQTT connection error")) ?? "";
    assert.match(line, /MQTT connection error: \S/);
    assert.match(line, /ECONNREFUSED/);
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
});
