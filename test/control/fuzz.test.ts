/**
 * No MQTT message can make the proxy send anything but A110/A111/A117 (issue 19): arbitrary
 * topics under the command prefixes and arbitrary payloads go through the same path as the
 * bridge's (controlTopics.parse → InverterControl.request) and every poll answer the responder
 * then gives is read the way the ECU reads it (readControlAnswer).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { withInverterControl } from "../../src/control/responder.js";
import { InverterControl } from "../../src/control/service.js";
import { controlTopics } from "../../src/ha/control.js";
import { noCommandsAnswer, readControlAnswer } from "../../src/protocol/answers/controlPoll.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import { createLocalResponder } from "../../src/proxy/responder.js";
import { captureLogger } from "../helpers/haHarness.js";

const ECU = "216000000000";
const UIDS = ["408000000001", "806000000001"];
const BASE = "apsystems_ecu_proxy";
const ALLOWED = new Set(["A100", "A110", "A111", "A117"]);

function setup() {
  const control = new InverterControl({
    devices: {
      inverter: (uid) => (UIDS.includes(uid) ? { ecuId: ECU, model: "YC600" } : undefined),
      inverterUids: (ecuId) => (ecuId === ECU ? UIDS : []),
    },
    logger: captureLogger().logger,
    deliverWithinMs: 35 * 60_000,
    ackWithinMs: 120_000,
    stamp: () => "20260101120000",
  });
  const responder = withInverterControl(control, createLocalResponder());
  return { control, responder, topics: controlTopics(BASE) };
}

const poll = Buffer.from(`APS1300051A101AAA0${ECU}A10100000000000000END`, "latin1");

const topicArb = fc.oneof(
  fc.constantFrom(
    `${BASE}/inverter/${UIDS[0]}/set/on`,
    `${BASE}/inverter/${UIDS[0]}/set/power_limit`,
    `${BASE}/inverter/${UIDS[1]}/set/power_limit`,
    `${BASE}/ecu/${ECU}/set/inverters_on`,
  ),
  fc
    .tuple(
      fc.constantFrom("inverter", "ecu"),
      fc.oneof(fc.constantFrom(ECU, ...UIDS), fc.string({ maxLength: 14 })),
      fc.oneof(
        fc.constantFrom("on", "power_limit", "inverters_on", "A107", "A108", "A119", "A136"),
        fc.string(),
      ),
    )
    .map(([kind, id, setting]) => `${BASE}/${kind}/${id}/set/${setting}`),
);
const payloadArb = fc.oneof(
  fc.constantFrom(
    "ON",
    "OFF",
    "0",
    "20",
    "300",
    "600",
    "999",
    "1000",
    "-5",
    "250.5",
    "1e3",
    " 250 ",
  ),
  fc.string({ maxLength: 80 }),
  fc.integer({ min: -10_000, max: 10_000 }).map(String),
  fc.constantFrom("A107", "A108AAA0", `APS1300081A107AAA0${ECU}100000000000000END`),
);

test("any command-topic message yields only A110/A111/A117 frames the ECU reads as such, in range", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(topicArb, payloadArb), { minLength: 1, maxLength: 12 }),
      async (messages) => {
        const { control, responder, topics } = setup();
        for (const [topic, payload] of messages) {
          const request = topics.parse(topic, payload);
          if (request) control.request(request, 0);
        }
        // More polls than requests: the queue must drain to "no commands".
        for (let i = 0; i < messages.length + 2; i++) {
          const { answer } = await responder({
            frame: poll,
            message: decodeFrame(poll),
            port: 8997,
            remote: "127.0.0.1",
            receivedAt: i,
          });
          assert.ok(answer);
          const read = readControlAnswer(answer, ECU);
          assert.ok("command" in read, `the ECU could not read ${answer.toString("latin1")}`);
          assert.ok(ALLOWED.has(read.command), `sent ${read.command}`);
          const text = answer.toString("latin1");
          if (read.command === "A110") {
            const watts = Number(text.slice(64, 67));
            assert.ok(watts >= 20 && watts <= 600, `limit ${watts} W outside the range`);
          }
          if (read.command === "A100") assert.deepEqual(answer, noCommandsAnswer(ECU));
        }
      },
    ),
    { numRuns: 400 },
  );
});
