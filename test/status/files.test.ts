import assert from "node:assert/strict";
import { test } from "node:test";
import { WriteQueue } from "../../src/status/files.js";

test("a flood of save requests becomes two writes, and flush() saves the newest content at once", async () => {
  let value = 0;
  const written: number[] = [];
  const queue = new WriteQueue(
    async () => {
      written.push(value);
      await new Promise((r) => setTimeout(r, 5));
    },
    (err) => assert.fail(String(err)),
    60_000,
  );
  for (let i = 1; i <= 1000; i++) {
    value = i;
    queue.request();
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(written, [1], "one write now, the rest waits for the interval");
  const started = Date.now();
  await queue.flush();
  assert.ok(Date.now() - started < 1000, "flush does not wait out the interval");
  assert.deepEqual(written, [1, 1000]);
});

test("a failed write is reported and the next request writes again", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const queue = new WriteQueue(
    async () => {
      calls++;
      if (calls === 1) throw new Error("disk full");
    },
    (err) => errors.push(err),
  );
  queue.request();
  await queue.flush();
  queue.request();
  await queue.flush();
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
});
