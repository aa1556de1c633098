import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFrame } from "../../src/protocol/decode.js";
import { allowListed } from "../../src/proxy/allowList.js";
import type { Exchange } from "../../src/proxy/exchange.js";
import { ECU_ID, uploadFrame } from "../helpers/fixtures.js";
import { captureLogs } from "../helpers/logs.js";

function exchange(frame: Buffer): Exchange {
  return {
    receivedAt: 0,
    port: 8995,
    remote: "192.0.2.7",
    frame,
    message: decodeFrame(frame),
    answer: null,
    answeredBy: "proxy",
  };
}

test("an empty allow-list passes everything through", () => {
  const seen: Exchange[] = [];
  const { logger } = captureLogs();
  const l = allowListed([], (e) => seen.push(e), logger);
  l(exchange(uploadFrame()));
  assert.equal(seen.length, 1);
});

test("other ECUs are filtered and logged once; allowed ones pass", () => {
  const seen: Exchange[] = [];
  const { logger, lines } = captureLogs();
  const l = allowListed(["216000099999"], (e) => seen.push(e), logger);
  for (let i = 0; i < 3; i++) l(exchange(uploadFrame()));
  l(exchange(Buffer.from(`APS13AAA22${ECU_ID}`)));
  assert.equal(seen.length, 0);
  const notes = lines.filter((x) => /not in allowed_ecu_ids/.test(x.msg));
  assert.equal(notes.length, 1);
  assert.equal(notes[0]?.ecu, ECU_ID);
  const allowed = allowListed([ECU_ID], (e) => seen.push(e), logger);
  allowed(exchange(uploadFrame()));
  assert.equal(seen.length, 1);
});
