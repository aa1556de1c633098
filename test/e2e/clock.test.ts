/**
 * An ECU whose clock is wrong (issue 20), over the real program (`ecu-proxy serve` as a
 * process), real TCP and a real mosquitto: its rounds reach Home Assistant from the third one
 * on, with the learned offset and the "ECU clock wrong" problem sensor, and every round — those
 * refused while the offset was not known yet, which the ECU sends again — is counted once.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
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
const QS1_STATE = "apsystems_ecu_proxy/inverter/806000011223/state";
/** The capture's QS1 channel energies, Wh, as mWh. */
const QS1_CHANNEL_MWH = [2309, 3070, 3569, 3437];

interface EcuState {
  power: number | null;
  clock_offset: number | null;
  clock_wrong: string;
  last_upload: string | null;
}

/** The real capture stamped `stamp` (`YYYYMMDDHHmmss`, protocol.md §3.1 offset 60). */
function round(stamp: string): Buffer {
  const text = uploadFrame().toString("latin1").replace(/\n$/, "");
  return Buffer.from(`${text.slice(0, 60)}${stamp}${text.slice(74)}\n`, "latin1");
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

const serve = (dataDir: string, port: number) =>
  serveCli({ timezone: ZONE, mqtt_host: "127.0.0.1", mqtt_port: broker.port }, dataDir, port);

/** The answer to one upload: `101`+its stamp when confirmed, nothing when refused. */
async function send(port: number, stamp: string): Promise<string> {
  return (await ecuExchange(port, round(stamp), { expectBytes: 17 })).toString("latin1");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function channelLifetimes(): number[] {
  const state = watch.json(QS1_STATE) as { channels: Array<{ lifetime_energy: number }> };
  return state.channels.map((c) => Math.round(c.lifetime_energy * 1e6));
}

const ecuState = () => watch.json(ECU_STATE) as EcuState;

/**
 * Three rounds made now by an ECU whose clock reads `shift(now)`, one a second apart (each its
 * own stamp); the refused ones sent again after the third, as the ECU does.
 */
async function wrongClock(shift: (now: dayjs.Dayjs) => dayjs.Dayjs, expectOffsetMin: number) {
  const dir = tempDir("clock-e2e-");
  const port = await freePort();
  const proxy = await serve(dir, port);
  try {
    const stamps: string[] = [];
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const stamp = shift(dayjs()).tz(ZONE).format("YYYYMMDDHHmmss");
      stamps.push(stamp);
      answers.push(await send(port, stamp));
      await sleep(1100);
    }
    assert.equal(answers[2], `101${stamps[2]}`, "the third round is confirmed");
    await watch.waitForJson(ECU_STATE, (s) => s.power === 190 && s.clock_wrong === "ON");
    const live = ecuState();
    const offset = live.clock_offset ?? Number.NaN;
    assert.ok(Math.abs(offset - expectOffsetMin) <= 1, `offset ${offset} ≈ ${expectOffsetMin} min`);
    // Last upload is the round's wall-clock time.
    const lastUpload = Date.parse(live.last_upload ?? "");
    assert.ok(Math.abs(lastUpload - Date.now()) < 60_000, `${live.last_upload}`);
    // The refused rounds, sent again: confirmed now; and resends of confirmed ones add nothing.
    for (const [i, answer] of answers.entries()) {
      if (answer === "") assert.equal(await send(port, stamps[i] as string), `101${stamps[i]}`);
      else assert.equal(answer, `101${stamps[i]}`);
    }
    for (const stamp of stamps) assert.equal(await send(port, stamp), `101${stamp}`);
    const expected = QS1_CHANNEL_MWH.map((mwh) => 3 * mwh).join();
    await watch.waitFor(() => channelLifetimes().join() === expected, `lifetimes ${expected}`);
    await sleep(300);
    assert.equal(channelLifetimes().join(), expected, "each round counted once");
    assert.equal(ecuState().power, 190);
    return { answers, output: proxy.output() };
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
  }
}

test("an ECU whose clock runs 2 hours ahead: refused twice, then live, and nothing lost", async () => {
  const { answers, output } = await wrongClock((now) => now.add(2, "hour"), 120);
  assert.deepEqual(
    answers.slice(0, 2),
    ["", ""],
    "not confirmed before the offset is known: the ECU keeps them",
  );
  assert.match(output, /clock runs 120 min ahead of the clock/);
});

test("an ECU whose clock runs 25 years behind: live from the third round", async () => {
  const now = dayjs();
  const expected = Math.round(now.subtract(25, "year").diff(now) / 60_000);
  const { answers } = await wrongClock((t) => t.subtract(25, "year"), expected);
  assert.ok(
    answers.every((a) => a.startsWith("101")),
    "behind: every round confirmed",
  );
});
