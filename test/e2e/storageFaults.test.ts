/**
 * Storage faults around the real program (issue 18 point 3), with a real mosquitto and a real
 * small filesystem under the data directory: while it is full or read-only, rounds are not
 * confirmed (the ECU keeps them) and Home Assistant's storage problem sensor is on; once it
 * works again the ECU's resends are counted once; a data directory deleted under the proxy is
 * made again; and across it all and a restart Home Assistant never sees a counter go down.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import { exited, serveCli } from "../helpers/cli.js";
import { ECU_ID, uploadFrame } from "../helpers/fixtures.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { SmallDisk } from "../helpers/smallDisk.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";
import { zoneAwayFromMidnight } from "../helpers/zones.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/** energy_today is per local day: rounds from the last hour must not cross midnight. */
const ZONE = zoneAwayFromMidnight();
const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;
/** The capture's two inverters produce this much per round, kWh (energy_today's unit). */
const ROUND_KWH = 0.015213;

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

function round(at: dayjs.Dayjs): Buffer {
  let text = uploadFrame().toString("latin1").replace(/\n$/, "");
  text = text.slice(0, 60) + at.tz(ZONE).format("YYYYMMDDHHmmss") + text.slice(74);
  return Buffer.from(`${text}\n`, "latin1");
}

/** The ECU's view: true when the round was confirmed (`101` + its time), false when not. */
async function upload(port: number, at: dayjs.Dayjs): Promise<boolean> {
  const answer = await ecuExchange(port, round(at), { expectBytes: 17, timeoutMs: 4000 });
  return answer.toString("latin1") === `101${at.tz(ZONE).format("YYYYMMDDHHmmss")}`;
}

const serve = (dataDir: string, optionsDir: string, port: number) =>
  serveCli(
    { timezone: ZONE, mqtt_host: "127.0.0.1", mqtt_port: broker.port },
    dataDir,
    port,
    optionsDir,
  );

const state = () => watch.json(ECU_STATE) as { energy_today: number; storage_problem: string };

test("full, read-only and deleted storage: no round confirmed that is not stored, none counted twice, no counter down", async (t) => {
  const disk = SmallDisk.mount(1024);
  if ("skip" in disk) return t.skip(disk.skip);
  const dataDir = join(disk.dir, "data");
  const port = await freePort();
  const firstMessage = watch.messages.length;
  let proxy = await serve(dataDir, disk.dir, port);
  const start = dayjs().subtract(40, "minute");
  const at = (i: number) => start.add(i, "minute");
  let counted = 0;
  const expectCounted = async () => {
    await watch.waitForJson(
      ECU_STATE,
      (s) => Math.abs((s.energy_today as number) - counted * ROUND_KWH) < 1e-6,
      15_000,
    );
  };
  try {
    for (let i = 0; i < 3; i++) assert.ok(await upload(port, at(i)));
    counted = 3;
    await expectCounted();
    assert.equal(state().storage_problem, "OFF");

    // Full: rounds are confirmed while they still fit, then refused, and the sensor turns on.
    disk.fill();
    let next = 3;
    let refused = -1;
    for (; next < 30 && refused < 0; next++) {
      if (await upload(port, at(next))) counted++;
      else refused = next;
    }
    assert.ok(refused > 0, "the full disk refused a round");
    await watch.waitForJson(ECU_STATE, (s) => s.storage_problem === "ON", 10_000);
    await watch.waitFor(
      () => /cannot store rounds in .* \(ENOSPC\).*free some space/.test(proxy.output()),
      "the error line with the fix",
    );
    disk.free();
    await new Promise((r) => setTimeout(r, 1200));
    // The ECU resends the refused round: confirmed now, counted once, even when sent twice.
    assert.ok(await upload(port, at(refused)));
    assert.ok(await upload(port, at(refused)));
    counted++;
    await watch.waitForJson(ECU_STATE, (s) => s.storage_problem === "OFF", 10_000);
    await expectCounted();

    // Read-only (as the kernel remounts a failing disk): refused until writable again.
    disk.readOnly();
    assert.equal(await upload(port, at(next)), false, "no 101 from a read-only disk");
    await watch.waitForJson(ECU_STATE, (s) => s.storage_problem === "ON", 10_000);
    await watch.waitFor(() => /\(EROFS\)/.test(proxy.output()), "the EROFS error line");
    disk.readWrite();
    await new Promise((r) => setTimeout(r, 1200));
    assert.ok(await upload(port, at(next)));
    counted++;
    next++;
    await expectCounted();

    // The data directory deleted under the proxy: made again, with everything from memory.
    rmSync(dataDir, { recursive: true, force: true });
    assert.ok(await upload(port, at(next)));
    counted++;
    next++;
    assert.ok(existsSync(join(dataDir, "state.json")));
    await expectCounted();

    // A restart reads it all back.
    proxy.kill("SIGKILL");
    await exited(proxy, 5000);
    proxy = await serve(dataDir, disk.dir, port);
    assert.ok(await upload(port, at(next)));
    counted++;
    await expectCounted();
    const series = watch.messages
      .slice(firstMessage)
      .filter((m) => m.topic === ECU_STATE && m.payload !== "")
      .map((m) => (JSON.parse(m.payload) as { energy_today: number }).energy_today);
    for (let i = 1; i < series.length; i++) {
      assert.ok((series[i] ?? 0) >= (series[i - 1] ?? 0), `message ${i} went down`);
    }
  } finally {
    proxy.kill("SIGTERM");
    await exited(proxy, 5000);
    disk.unmount();
  }
});
