import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodeUpload } from "../../src/protocol/build.js";
import { exited, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/logs.js";
import { freePort, Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

/**
 * The whole program as a process, against a real mosquitto: broker outage, SIGTERM, kill -9.
 * Each test reports its figures with t.diagnostic.
 */

const ECU = "216000000777";
const BASE = "apsystems_ecu_proxy";
const STATE_TOPIC = `${BASE}/ecu/${ECU}/state`;
const ROUND_WH = 2 * 10; // each round below: 2 channels × 10 Wh

function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** A round stamped `ms` (UTC, the proxy's timezone below) worth exactly ROUND_WH. */
function round(ms: number): Buffer {
  const channel = { dcVoltageV: 30, dcCurrentA: 4, energyWh: 10, powerW: 120 };
  const text = encodeUpload({
    ecuId: ECU,
    timestamp: utcStamp(ms),
    lifetimeEnergyKWh: 1000 + ms / 1e9,
    inverters: [
      {
        uid: "408000000777",
        typeCode: "07",
        acVoltageV: 230,
        frequencyHz: 50,
        temperatureC: 30,
        channels: [channel, channel],
      },
    ],
  });
  return Buffer.from(`${text}\n`, "latin1");
}

async function send(port: number, ms: number): Promise<boolean> {
  const answer = await ecuExchange(port, round(ms), { expectBytes: 17, timeoutMs: 3000 });
  return answer.toString() === `101${utcStamp(ms)}`;
}

const energyToday = (watch: MqttWatch): number =>
  Number((watch.json(STATE_TOPIC) as { energy_today?: number } | undefined)?.energy_today ?? -1);

async function proxy(broker: Mosquitto, dataDir: string) {
  const port = await freePort();
  const options = join(dataDir, "..", `options-${port}.json`);
  writeFileSync(
    options,
    JSON.stringify({
      log_level: "debug",
      timezone: "UTC",
      mqtt_host: "127.0.0.1",
      mqtt_port: broker.port,
    }),
  );
  const child = startCli([
    "serve",
    "--options",
    options,
    "--ports",
    String(port),
    "--host",
    "127.0.0.1",
    "--data-dir",
    dataDir,
  ]);
  await waitFor(() => child.output().includes("listening for ECUs"), "proxy to listen", 15000);
  return { child, port };
}

const children: Array<{ kill: (s: NodeJS.Signals) => boolean }> = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

test("broker outage: ECUs answered throughout, latest state and counters published after reconnect; SIGTERM: exit 0 < 2 s, offline published, state written", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const dataDir = join(mkdtempSync(join(tmpdir(), "life-")), "data");
  const { child, port } = await proxy(broker, dataDir);
  children.push(child);
  t.after(async () => {
    await watch.end();
    await broker.stop();
  });

  const start = Date.now() - 60_000;
  let sent = 0;
  let answered = 0;
  for (; sent < 3; sent++) answered += Number(await send(port, start + sent * 1000));
  await watch.waitFor(() => energyToday(watch) >= (3 * ROUND_WH) / 1000, "energy of 3 rounds");

  await broker.stop();
  const outageStarted = Date.now();
  for (; sent < 8; sent++) answered += Number(await send(port, start + sent * 1000));
  const outageMs = Date.now() - outageStarted;
  assert.equal(answered, sent, "every upload answered, broker or not");

  watch.clear();
  await broker.start();
  const reconnectStarted = Date.now();
  await watch.waitFor(
    () => energyToday(watch) === (8 * ROUND_WH) / 1000,
    "counters of all 8 rounds after reconnect",
    20_000,
  );
  const republishMs = Date.now() - reconnectStarted;
  const state = watch.json(STATE_TOPIC) as { last_upload?: string };
  assert.match(
    state.last_upload ?? "",
    new RegExp(`^${new Date(start + 7000).toISOString().slice(0, 19)}`),
  );

  const stateFile = readdirState(dataDir);
  const before = stateFile ? statSync(stateFile).mtimeMs : 0;
  child.kill("SIGTERM");
  const { code, ms } = await exited(child, 5000);
  assert.equal(code, 0);
  assert.ok(ms < 2000, `SIGTERM exit took ${ms} ms`);
  await watch.waitFor(() => watch.last(`${BASE}/status`) === "offline", "offline on the LWT topic");
  const after = readdirState(dataDir);
  assert.ok(after && statSync(after).mtimeMs >= before, "state written on stop");
  t.diagnostic(
    `outage: ${sent - 3} uploads answered while the broker was down (${outageMs} ms); state republished ${republishMs} ms after the broker came back; SIGTERM exit in ${ms} ms with code 0`,
  );
});

function readdirState(dataDir: string): string | undefined {
  const path = join(dataDir, "state.json");
  return existsSync(path) ? path : undefined;
}

test("kill -9 during uploads: the next process continues the counters from an intact state file", async (t) => {
  const broker = await Mosquitto.start();
  const watch = await MqttWatch.connect(broker.port);
  const dataDir = join(mkdtempSync(join(tmpdir(), "kill-")), "data");
  t.after(async () => {
    await watch.end();
    await broker.stop();
  });
  const first = await proxy(broker, dataDir);
  children.push(first.child);
  const start = Date.now() - 120_000;
  let answered = 0;
  const sending = (async () => {
    for (let i = 0; i < 40; i++) {
      try {
        if (await send(first.port, start + i * 1000)) answered++;
      } catch {
        break; // the process is gone
      }
    }
  })();
  await waitFor(() => answered >= 10 || undefined, "10 answered uploads", 15000);
  first.child.kill("SIGKILL");
  await sending;
  const publishedBefore = energyToday(watch);

  const second = await proxy(broker, dataDir);
  children.push(second.child);
  assert.doesNotMatch(second.child.output(), /corrupt/i);
  assert.equal(await send(second.port, start + 100_000), true);
  await watch.waitFor(
    () => energyToday(watch) > publishedBefore,
    `energy today to continue (before ${publishedBefore}, now ${energyToday(watch)}, answered ${answered})`,
  );
  const after = energyToday(watch);
  const state = JSON.parse(readFileSync(join(dataDir, "state.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.ok(JSON.stringify(state).includes(ECU), "device list kept");
  // Counters continue: never below what was published before the kill, never above all rounds.
  assert.ok(after >= publishedBefore + ROUND_WH / 1000 - 1e-9, `${after} < ${publishedBefore}`);
  assert.ok(after <= ((answered + 1) * ROUND_WH) / 1000 + 1e-9);
  second.child.kill("SIGTERM");
  await exited(second.child, 5000);
  t.diagnostic(
    `kill -9 after ${answered} answered uploads: published ${publishedBefore} kWh before, ${after} kWh after restart + 1 upload (max possible ${((answered + 1) * ROUND_WH) / 1000})`,
  );
});
