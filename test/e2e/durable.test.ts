/**
 * A confirmed round is a kept promise (issue 18 point 2), over the real program: 16 ECUs upload
 * back to back over real TCP, each resending a round until it reads `101` + the round's time (as
 * the firmware does, protocol.md §4.1), while the proxy is killed with SIGKILL again and again.
 * Afterwards every round any ECU saw confirmed must be in what a restart reads.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";
import { DeviceRegistry } from "../../src/devices/registry.js";
import { roundSeconds } from "../../src/devices/roundTime.js";
import { devicesConfig } from "../../src/options/parts.js";
import { exited, startCli } from "../helpers/cli.js";
import { uploadFrame } from "../helpers/fixtures.js";
import { captureLogger, tempDir, testOptions } from "../helpers/haHarness.js";
import { waitFor } from "../helpers/logs.js";
import { ecuExchange, freePort } from "../helpers/tcp.js";

dayjs.extend(utc);
dayjs.extend(timezone);

const ZONE = "Europe/Amsterdam";
const ECUS = 16;
const KILLS = 8;
/** Rounds per ECU at most: well under a day's bound (counters.ts MAX_ROUNDS_PER_DAY). */
const MAX_ROUNDS = 600;

function round(ecuId: string, at: dayjs.Dayjs): Buffer {
  let text = uploadFrame().toString("latin1").replace(/\n$/, "");
  const put = (offset: number, value: string) => {
    text = text.slice(0, offset) + value + text.slice(offset + value.length);
  };
  put(18, ecuId);
  put(60, at.tz(ZONE).format("YYYYMMDDHHmmss"));
  // Each ECU its own two inverters (the capture's records at 86 and 174; uids are 12 digits).
  put(86 + 10, ecuId.slice(10));
  put(174 + 10, ecuId.slice(10));
  return Buffer.from(`${text}\n`, "latin1");
}

function serve(dataDir: string, port: number): ChildProcess & { output: () => string } {
  const options = join(dataDir, "options.json");
  writeFileSync(options, JSON.stringify({ timezone: ZONE, max_ecus: ECUS }));
  return startCli(["serve", "--options", options, "--data-dir", dataDir, "--ports", String(port)]);
}

test("kill -9 in a loop while 16 ECUs upload: no confirmed round is lost", async () => {
  const dir = tempDir("durable-");
  const port = await freePort();
  let proxy = serve(dir, port);
  await waitFor(() => proxy.output().includes("listening"), "proxy listening", 15_000);

  // Each ECU's rounds, 10 s apart in ECU time, from three hours ago: backlog, then live.
  const start = dayjs().subtract(3, "hour");
  const confirmed = new Map<string, string[]>();
  let running = true;
  const ecu = async (n: number) => {
    const id = `2160000800${String(n).padStart(2, "0")}`;
    const mine: string[] = [];
    confirmed.set(id, mine);
    for (let r = 0; running && r < MAX_ROUNDS; ) {
      const at = start.add(r * 10, "second");
      const answer = await ecuExchange(port, round(id, at), { expectBytes: 17, timeoutMs: 3000 })
        .then((b) => b.toString("latin1"))
        .catch(() => "");
      const stamp = at.tz(ZONE).format("YYYYMMDDHHmmss");
      if (answer === `101${stamp}`) {
        mine.push(at.tz(ZONE).format("YYYY-MM-DDTHH:mm:ss"));
        r++;
      } else {
        // Not confirmed: the ECU keeps the round and sends it again.
        await new Promise((res) => setTimeout(res, 30));
      }
    }
  };
  const ecus = Array.from({ length: ECUS }, (_, n) => ecu(n));
  let confirmedAtKill = 0;
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
    proxy.kill("SIGKILL");
    await exited(proxy, 5000);
    confirmedAtKill += [...confirmed.values()].reduce((n, l) => n + l.length, 0) > 0 ? 1 : 0;
    proxy = serve(dir, port);
    await waitFor(() => proxy.output().includes("listening"), "proxy listening", 15_000);
  }
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await Promise.all(ecus);
  proxy.kill("SIGKILL");
  await exited(proxy, 5000);

  const total = [...confirmed.values()].reduce((n, l) => n + l.length, 0);
  assert.ok(confirmedAtKill >= KILLS - 1 && total > ECUS * 10, `${total} rounds confirmed`);
  // What a restart reads: the snapshot and the journal after it.
  const devices = new DeviceRegistry({
    ...devicesConfig(testOptions({ timezone: ZONE, max_ecus: ECUS })),
    dataDir: dir,
    logger: captureLogger().logger,
  });
  devices.start();
  try {
    const lost: string[] = [];
    for (const [id, rounds] of confirmed) {
      const counted = new Set(devices.ecu(id)?.countedRounds ?? []);
      for (const ts of rounds) if (!counted.has(roundSeconds(ts))) lost.push(`${id} ${ts}`);
    }
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} of ${total} confirmed rounds lost`);
  } finally {
    await devices.stop();
  }
});
