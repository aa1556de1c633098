/**
 * Problem sensors over the real TCP server and a real mosquitto (issue 13): a normal run of
 * rounds (sun rising and falling, clouds, panels ±10 %) raises nothing; an inverter missing
 * from the rounds, and a panel far below its siblings, turn their sensors on.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RunningProxy, startProxy } from "../../src/main.js";
import { encodeUpload, type InverterReading } from "../../src/protocol/build.js";
import { captureLogger, tempDir, testOptions } from "../helpers/haHarness.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange } from "../helpers/tcp.js";

const ECU = "216000077001";
const UIDS = ["806000077001", "806000077002", "806000077003", "806000077004"];
const state = (uid: string) => `apsystems_ecu_proxy/inverter/${uid}/state`;

let broker: Mosquitto;
let watch: MqttWatch;
let proxy: RunningProxy;
let port: number;
/** Each round one second after the previous, ending now: all of them live. */
let roundAt = Date.now() - 200_000;

before(async () => {
  broker = await Mosquitto.start();
  watch = await MqttWatch.connect(broker.port);
  proxy = await startProxy({
    options: testOptions({ timezone: "UTC" }),
    host: "127.0.0.1",
    ports: [0],
    dataDir: tempDir("problems-"),
    logger: captureLogger().logger,
    mqtt: { host: "127.0.0.1", port: broker.port },
  });
  port = proxy.server.boundPorts[0] ?? 0;
});
after(async () => {
  await proxy?.stop();
  await watch?.end();
  await broker?.stop();
});

function inverter(uid: string, panelsW: number[]): InverterReading {
  return {
    uid,
    typeCode: "08",
    acVoltageV: 230,
    frequencyHz: 50,
    temperatureC: 30,
    channels: panelsW.map((powerW) => ({
      dcVoltageV: 33.5,
      dcCurrentA: Math.round((powerW / 33.5) * 10) / 10,
      energyWh: Math.round((powerW / 12) * 1000) / 1000,
      powerW,
    })),
  };
}

/** One round; `power(uid, panel)` undefined leaves the inverter out. */
async function round(power: (i: number, panel: number) => number | undefined): Promise<void> {
  roundAt += 1000;
  const timestamp = new Date(roundAt).toISOString().replace(/\D/g, "").slice(0, 14);
  const inverters = UIDS.flatMap((uid, i) => {
    const panels = [0, 1, 2, 3].map((p) => power(i, p));
    return panels.some((w) => w === undefined) ? [] : [inverter(uid, panels as number[])];
  });
  const frame = `${encodeUpload({ ecuId: ECU, timestamp, lifetimeEnergyKWh: 1000, inverters })}\n`;
  const answer = await ecuExchange(port, Buffer.from(frame, "latin1"), { expectBytes: 17 });
  assert.equal(answer.toString("latin1"), `101${timestamp}`);
}

type InverterState = { missing: string; weak: string; channels: Array<{ weak: string }> };
const flags = () =>
  UIDS.flatMap((uid) => {
    const s = watch.json(state(uid)) as InverterState | undefined;
    if (!s) return [`${uid} unpublished`];
    return [
      ...(s.missing === "ON" ? [`${uid} missing`] : []),
      ...(s.weak === "ON" ? [`${uid} weak`] : []),
      ...s.channels.flatMap((c, i) => (c.weak === "ON" ? [`${uid}/${i + 1} weak`] : [])),
    ];
  });

/** A day's bell curve over `n` rounds, with clouds and a ±10 % spread between panels. */
const day = (r: number, n: number) => (i: number, p: number) => {
  const sun = 300 * Math.sin((Math.PI * (r + 1)) / (n + 1));
  const cloud = r % 9 < 2 ? 0.3 : 1;
  return Math.round(sun * cloud * (0.9 + ((i * 4 + p + r) % 5) * 0.05));
};

test("a day of normal rounds raises no problem", async () => {
  for (let r = 0; r < 60; r++) await round(day(r, 60));
  await watch.waitFor(() => !flags().some((f) => f.includes("unpublished")), "all published");
  await new Promise((res) => setTimeout(res, 300));
  assert.deepEqual(flags(), []);
});

test("an inverter missing while its siblings produce, and a weak panel, turn their sensors on", async () => {
  for (let r = 0; r < 3; r++) await round((i) => (i === 0 ? undefined : 250));
  await watch.waitFor(() => flags().includes(`${UIDS[0]} missing`), "missing ON");
  for (let r = 0; r < 6; r++) await round((i, p) => (i === 2 && p === 1 ? 10 : 250));
  await watch.waitFor(() => flags().join() === `${UIDS[2]}/2 weak`, `only ${UIDS[2]}/2 weak`);
});
