import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createHomeAssistantBridge } from "../../src/ha/bridge.js";
import { emptyState } from "../../src/ha/model.js";
import { StateStore } from "../../src/ha/store.js";
import { applyUpload } from "../../src/ha/tracker.js";
import {
  captureLogger,
  captureUpload,
  exchangeOf,
  TestClock,
  tempDir,
  testOptions,
} from "../helpers/haHarness.js";
import { ECU_ID, QS1 } from "./expected.js";

const T0 = Date.UTC(2024, 1, 6, 10, 22, 20);
const ROUND_MWH = 1409 + 1419 + 2309 + 3070 + 3569 + 3437;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readState(dir: string): ReturnType<typeof emptyState> {
  return JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as ReturnType<typeof emptyState>;
}

test("state is written atomically and read back", async () => {
  const dir = tempDir();
  const { logger } = captureLogger();
  const store = new StateStore(dir, logger, () => T0);
  const state = emptyState();
  applyUpload(state, captureUpload(), T0, "2024-02-06");
  for (let i = 0; i < 20; i++) void store.save(state);
  await store.flush();
  assert.deepEqual(readdirSync(dir), ["state.json"], "no temp file is left behind");
  assert.deepEqual(new StateStore(dir, logger, () => T0).load(), state);
});

test("save resolves with what the file holds, even while newer changes arrive (publish never runs ahead of disk)", async () => {
  const dir = tempDir();
  const { logger } = captureLogger();
  const store = new StateStore(dir, logger, () => T0);
  const state = emptyState();
  const checks: Promise<void>[] = [];
  let writesSeen = 0;
  for (let i = 1; i <= 200; i++) {
    state.day = `day-${String(i).padStart(3, "0")}`;
    checks.push(
      store.save(state).then((saved) => {
        writesSeen++;
        assert.ok(saved, "the default pick copies the state");
        const onDisk = readState(dir).day ?? "";
        // What a caller may publish (`saved`) is on disk already, and includes this save.
        assert.ok((saved.day ?? "") <= onDisk, `${saved.day} published, ${onDisk} on disk`);
        assert.ok((saved.day ?? "") >= `day-${String(i).padStart(3, "0")}`);
      }),
    );
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(checks);
  await store.flush();
  assert.equal(writesSeen, 200);
  assert.equal(readState(dir).day, "day-200");
});

test("a pick sees the state as its write takes it, and the file holds that when it resolves", async () => {
  const dir = tempDir();
  const { logger } = captureLogger();
  const store = new StateStore(dir, logger, () => T0);
  const state = emptyState();
  state.day = "day-1";
  const first = store.save(state, (written) => written.day);
  state.day = "day-2";
  const second = store.save(state, (written) => written.day); // queued behind the first write
  state.day = "day-3"; // changed before the second write starts: that write takes day-3
  assert.equal(await first, "day-1");
  const picked = await second;
  assert.equal(picked, "day-3");
  assert.equal(readState(dir).day, picked);
  assert.equal(store.idle, true);
});

test("a pick that throws is logged, its caller gets undefined, and the write still happens", async () => {
  const dir = tempDir();
  const { logger, lines } = captureLogger();
  const store = new StateStore(dir, logger, () => T0);
  const state = emptyState();
  state.day = "day-1";
  const picked = await store.save(state, () => {
    throw new Error("boom");
  });
  assert.equal(picked, undefined);
  assert.equal(readState(dir).day, "day-1");
  assert.ok(lines.some((l) => l.msg === "cannot copy the saved state for publishing"));
});

test("a truncated state file is moved aside, logged, and not fatal", () => {
  const dir = tempDir();
  const state = emptyState();
  applyUpload(state, captureUpload(), T0, "2024-02-06");
  const text = JSON.stringify(state);
  writeFileSync(join(dir, "state.json"), text.slice(0, text.length / 2));
  const { logger, lines } = captureLogger();
  const loaded = new StateStore(dir, logger, () => T0).load();
  assert.deepEqual(loaded, emptyState());
  assert.ok(!existsSync(join(dir, "state.json")));
  const aside = readdirSync(dir).filter((f) => f.startsWith("state.json.corrupt-"));
  assert.equal(aside.length, 1);
  const warning = lines.find(
    (l) => l.msg === "state file is corrupt; starting with empty counters",
  );
  assert.equal(warning?.level, 40);
});

test("a state file with a wrong shape counts as corrupt", () => {
  const dir = tempDir();
  const state = emptyState();
  applyUpload(state, captureUpload(), T0, "2024-02-06");
  const bad = JSON.parse(JSON.stringify(state)) as {
    ecus: Record<string, { energyTodayMWh: unknown }>;
  };
  const ecu = bad.ecus[ECU_ID];
  assert.ok(ecu);
  ecu.energyTodayMWh = "lots";
  writeFileSync(join(dir, "state.json"), JSON.stringify(bad));
  const { logger } = captureLogger();
  assert.deepEqual(new StateStore(dir, logger, () => T0).load(), emptyState());
});

test("after kill -9 the counters continue in the next process", async () => {
  const dir = tempDir();
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      fileURLToPath(new URL("../helpers/bridgeChild.ts", import.meta.url)),
      dir,
      "20240206112214",
      String(T0),
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  try {
    await waitFor(
      () => existsSync(join(dir, "state.json")) && readState(dir).ecus[ECU_ID] !== undefined,
      "the child's state file",
    );
  } finally {
    child.kill("SIGKILL");
  }
  assert.equal(await exited, "SIGKILL");

  const clock = new TestClock(T0 + 300_000);
  const { logger } = captureLogger();
  const bridge = createHomeAssistantBridge({
    settings: undefined,
    options: testOptions(),
    dataDir: dir,
    logger,
    mode: "cloudless",
    now: clock.now,
  });
  await bridge.start();
  bridge.handleExchange(exchangeOf(captureUpload({ timestamp: "20240206112214" })));
  bridge.handleExchange(exchangeOf(captureUpload({ timestamp: "20240206112714" })));
  await bridge.stop();
  const state = readState(dir);
  assert.equal(
    state.ecus[ECU_ID]?.energyTodayMWh,
    2 * ROUND_MWH,
    "the re-sent round is not recounted",
  );
  assert.equal(state.inverters[QS1]?.energyTodayMWh, 2 * (2309 + 3070 + 3569 + 3437));
});
