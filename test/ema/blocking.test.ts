import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_FILE_ANSWER } from "../../src/protocol/answers/firmwareQuery.js";
import { apsFrame, commandFrame, FakeEma, FILE_EXISTS_ANSWER } from "../helpers/ema.js";
import { ECU_ID, firmwareQuery } from "../helpers/fixtures.js";
import { startForwarding } from "../helpers/forwarding.js";
import { waitFor } from "../helpers/logs.js";
import { ecuExchange } from "../helpers/tcp.js";

const wire = (text: string) => Buffer.from(`${text}\n`, "latin1");
const POLL = wire(`APS1300051A101AAA0${ECU_ID}A10100000000000000END`);
const STATUS_QUERY = wire(`APS13AAA51A123AAA0${ECU_ID}000000000000000000END`);
const NO_COMMANDS = Buffer.from(`APS13AAA52A100AAA0${ECU_ID}A101000000000000000END`, "latin1");
const STATUS_ANSWER = Buffer.from("APS1300024A123AAA0100END", "latin1");
const QUERY = firmwareQuery("/ECU_R_M3/V1.2/ecu-r-m3.bin");
const exchange = (port: number, data: Buffer) =>
  ecuExchange(port, data, { quietMs: 250, timeoutMs: 4000 });

test("block_firmware_updates on: a command in EMA's poll answer (A136 inverter update flag) never reaches the ECU", async (t) => {
  const ema = await new FakeEma().start(1);
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const port = fw.ports[2] ?? 0;
  for (const command of ["A136", "A107", "A111"]) {
    ema.behaviour.command = command;
    const got = await exchange(port, POLL);
    assert.deepEqual(got, NO_COMMANDS, `${command}: the ECU gets the local "no commands" frame`);
    const line = fw.logs.lines.find((l) => l.msg.includes(`EMA sent command ${command}`));
    assert.ok(line, `an info line names ${command}`);
    assert.equal(line.level, 30);
    assert.match(line.msg, /blocked \(option block_firmware_updates\)/);
  }
  // The polls themselves did reach EMA (it still sees the ECU alive).
  assert.deepEqual(
    ema.requests.map((r) => r.data),
    [POLL, POLL, POLL],
  );
  const exchanges = await waitFor(() => fw.exchanges.length === 3 && fw.exchanges, "exchanges");
  assert.ok(exchanges.every((e) => e.answeredBy === "proxy" && e.answer?.equals(NO_COMMANDS)));
  assert.equal(fw.forwarder.stats.blockedOffers, 3);
  assert.equal(fw.forwarder.stats.emaReachable, true, "EMA did answer");

  // EMA's own A100 answer passes unchanged (the fake sends the 51-byte form, not ours).
  ema.behaviour.command = undefined;
  const emaNoCommands = apsFrame("A101", "AAA0", ECU_ID, `A100${"0".repeat(14)}`);
  assert.deepEqual(await exchange(port, POLL), emaNoCommands);
  assert.equal(fw.forwarder.stats.answersFromEma, 1);
});

test("block_firmware_updates on: a command frame after EMA's A123 status answer is removed, the status answer kept", async (t) => {
  const ema = await new FakeEma().start(1);
  ema.behaviour.statusCommand = "A136";
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const got = await exchange(fw.ports[2] ?? 0, STATUS_QUERY);
  assert.deepEqual(got, STATUS_ANSWER);
  assert.ok(fw.logs.lines.some((l) => /EMA sent command A136 .*without the command/.test(l.msg)));
});

test("block_firmware_updates on: an ECU11 firmware query never reaches EMA; the ECU hears 'file does not exist'", async (t) => {
  const ema = await new FakeEma().start(1);
  const fw = await startForwarding({ upstream: () => ema.ports[0] ?? 0, portCount: 1 });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const got = await exchange(fw.ports[0] ?? 0, QUERY);
  assert.deepEqual(got, NO_FILE_ANSWER);
  assert.equal(ema.totalConnections, 0, "EMA saw no connection");
  assert.ok(
    fw.logs.lines.some(
      (l) =>
        l.level === 30 &&
        /firmware query for \/ECU_R_M3\/V1\.2\/ecu-r-m3\.bin not forwarded to EMA/.test(l.msg),
    ),
  );
  assert.equal(fw.forwarder.stats.answersFromProxy, 1);
  assert.equal(fw.forwarder.stats.blockedOffers, 1);
  assert.equal(fw.forwarder.stats.emaReachable, undefined, "no attempt was made");
});

test("block_firmware_updates off: EMA's command and 'file exists' offer pass through unchanged", async (t) => {
  const ema = await new FakeEma().start(1);
  ema.behaviour.command = "A136";
  const fw = await startForwarding({
    upstream: () => ema.ports[0] ?? 0,
    blockFirmwareUpdates: false,
  });
  t.after(async () => {
    await fw.stop();
    await ema.stop();
  });
  const port = fw.ports[0] ?? 0;
  assert.deepEqual(await exchange(port, POLL), commandFrame(ECU_ID, "A136"));
  assert.deepEqual(await exchange(port, QUERY), FILE_EXISTS_ANSWER);
  // ECU11 frames are binary with an exact length: relayed without an added LF.
  assert.deepEqual(ema.requests.at(-1)?.data, QUERY);
  assert.equal(fw.forwarder.stats.answersFromEma, 2);
  assert.equal(fw.forwarder.stats.blockedOffers, 0);
});
