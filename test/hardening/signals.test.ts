/**
 * Every way a supervisor or a user stops the program (issue 18 point 4): SIGHUP (`s6-svc -h`,
 * `docker kill -s HUP`), SIGINT, SIGTERM, SIGTERM twice (an impatient supervisor), SIGUSR2. Each
 * must give one clean stop — exit code 0 within 2 s, the state snapshot written after the signal,
 * `offline` published — not Node's default of dying on the spot.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { exited, startCli } from "../helpers/cli.js";
import { ECU_ID, UPLOAD_ANSWER, uploadWire } from "../helpers/fixtures.js";
import { waitFor } from "../helpers/logs.js";
import { Mosquitto } from "../helpers/mosquitto.js";
import { MqttWatch } from "../helpers/mqttWatch.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";

const STATUS = "apsystems_ecu_proxy/status";
const ECU_STATE = `apsystems_ecu_proxy/ecu/${ECU_ID}/state`;

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

const CASES: Array<{ name: string; signals: NodeJS.Signals[] }> = [
  { name: "SIGHUP", signals: ["SIGHUP"] },
  { name: "SIGINT", signals: ["SIGINT"] },
  { name: "SIGTERM", signals: ["SIGTERM"] },
  { name: "SIGTERM twice, 20 ms apart", signals: ["SIGTERM", "SIGTERM"] },
  { name: "SIGUSR2", signals: ["SIGUSR2"] },
];

for (const { name, signals } of CASES) {
  test(`${name}: exit code 0 within 2 s, state written, offline published`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "signals-"));
    const dataDir = join(dir, "data");
    const port = await freePort();
    writeFileSync(
      join(dir, "options.json"),
      JSON.stringify({ timezone: "UTC", mqtt_host: "127.0.0.1", mqtt_port: broker.port }),
    );
    // Before the start: the proxy's retained `online` may arrive before its "listening" line.
    watch.clear();
    const proxy = startCli([
      "serve",
      "--options",
      join(dir, "options.json"),
      "--data-dir",
      dataDir,
      "--ports",
      String(port),
      "--host",
      "127.0.0.1",
    ]);
    t.after(() => proxy.kill("SIGKILL"));
    await waitFor(() => proxy.output().includes("listening for ECUs"), "proxy listening", 15_000);
    const answer = await ecuExchange(port, uploadWire(), { expectBytes: 17 });
    assert.equal(answer.toString("latin1"), UPLOAD_ANSWER);
    await watch.waitFor(() => watch.last(ECU_STATE) !== undefined, "the ECU's state", 10_000);
    await watch.waitFor(() => watch.last(STATUS) === "online", "online");

    const signalledAt = Date.now();
    const exit = exited(proxy, 5000);
    for (const [i, signal] of signals.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      proxy.kill(signal);
    }
    const { code, ms } = await exit;
    assert.equal(proxy.signalCode, null, `killed by ${proxy.signalCode}\n${proxy.output()}`);
    assert.equal(code, 0, proxy.output());
    assert.ok(ms < 2000, `exit took ${ms} ms`);
    assert.match(proxy.output(), /INFO .*stopped/, "the clean stop ran to its end");
    await watch.waitFor(() => watch.last(STATUS) === "offline", "offline on the status topic");
    const stateFile = join(dataDir, "state.json");
    assert.ok(statSync(stateFile).mtimeMs >= signalledAt - 5, "the snapshot written at the stop");
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as { ecus: Record<string, unknown> };
    assert.ok(state.ecus[ECU_ID], "the ECU in the snapshot");
    t.diagnostic(`${name}: exit code ${code} after ${ms} ms; state written; offline published`);
  });
}
