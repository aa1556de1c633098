import assert from "node:assert/strict";
import { test } from "node:test";
import { ExchangeLog, REMEMBERED_UNKNOWN_KINDS } from "../../src/proxy/exchangeLog.js";
import { RecentSet } from "../../src/proxy/recent.js";
import { captureLogs } from "../helpers/logs.js";

test("a RecentSet keeps the most recently seen keys, never more than its limit", () => {
  const recent = new RecentSet<string>(3);
  assert.deepEqual(
    ["a", "b", "c", "a", "d"].map((k) => recent.see(k)),
    [true, true, true, false, true],
  );
  // "a" was seen again before "d" came: "b" went.
  assert.equal(recent.see("a"), false);
  assert.equal(recent.see("c"), false);
  assert.equal(recent.see("b"), true);
  for (let i = 0; i < 10_000; i++) recent.see(`k${i}`);
  assert.equal(recent.size, 3);
});

test(`a stream of new unknown message kinds: ${REMEMBERED_UNKNOWN_KINDS} remembered at most, each new one logged`, () => {
  const { logger, lines } = captureLogs("info");
  const log = new ExchangeLog(logger);
  const connection = log.connection("192.0.2.7", 40000, 8995);
  for (let i = 0; i < 1000; i++) {
    const raw = `APS18AAA30A9${String(i).padStart(3, "0")}`;
    connection.exchange(
      { type: "unknown", kind: `APS18/${i}`, raw },
      Buffer.from(raw),
      null,
      "none",
    );
  }
  connection.exchange(
    { type: "unknown", kind: "APS18/999", raw: "" },
    Buffer.alloc(0),
    null,
    "none",
  );
  assert.equal(log.unknownKindsSeen.size, REMEMBERED_UNKNOWN_KINDS);
  assert.equal(lines.filter((l) => /^unknown message kind/.test(l.msg)).length, 1000);
});
