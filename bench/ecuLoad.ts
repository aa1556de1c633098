import { connect } from "node:net";

/**
 * The load generator: each transaction is what an ECU does — connect, send one upload, wait
 * for the complete answer, close. `concurrency` ECUs run transactions back to back until
 * `total` have been issued. Every ECU connects from its own loopback address (127.0.x.y), as
 * real ECUs come from their own addresses — and so the proxy's per-address limit (option
 * max_connections_per_address) applies per ECU, as in the field.
 */

export interface LoadSpec {
  host: string;
  port: number;
  concurrency: number;
  total: number;
  /** The upload as on the wire (with LF). */
  upload: Buffer;
  /** The exact answer expected back. */
  answer: Buffer;
  /** A transaction that takes longer counts as dropped (the ECU gives up too). */
  timeoutMs: number;
  /** When set, ECU `i` sends what this returns instead of `upload` (e.g. a new round each time). */
  nextUpload?: (ecu: number) => { upload: Buffer; answer: Buffer };
}

export type DropReason = "error" | "reset" | "refused" | "missing" | "wrong" | "timeout";

export interface LoadResult {
  /** Connect → complete answer, ms, one per successful transaction. */
  latencies: Float64Array;
  ok: number;
  dropped: number;
  drops: Record<DropReason, number>;
  wallMs: number;
}

/** 127.0.x.y for ECU i, skipping .0 and .255 (127.0.0.1 is left to tooling). */
export function ecuAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`;
}

export type Outcome = { ok: true; ms: number } | { ok: false; reason: DropReason };

/** One ECU transaction: connect from `localAddress`, send, check the answer, close. */
export function transaction(
  spec: Pick<LoadSpec, "host" | "port" | "upload" | "answer" | "timeoutMs">,
  localAddress: string,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const expected = spec.answer;
    const got = Buffer.alloc(expected.length);
    let received = 0;
    let answeredAt = 0;
    let outcome: Outcome | undefined;
    const socket = connect({ host: spec.host, port: spec.port, localAddress, noDelay: true });
    const settle = (result: Outcome) => {
      if (!outcome) outcome = result;
    };
    const timer = setTimeout(() => {
      settle({ ok: false, reason: "timeout" });
      socket.destroy();
    }, spec.timeoutMs);
    socket.once("connect", () => socket.write(spec.upload));
    socket.on("data", (chunk: Buffer) => {
      if (received + chunk.length > expected.length) {
        // More bytes than the answer: whatever it is, the ECU would not accept it.
        settle({ ok: false, reason: "wrong" });
        socket.destroy();
        return;
      }
      chunk.copy(got, received);
      received += chunk.length;
      if (received === expected.length && !outcome) {
        answeredAt = performance.now();
        if (!got.equals(expected)) settle({ ok: false, reason: "wrong" });
        // The ECU closes as soon as it has its answer.
        socket.end();
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const reason: DropReason =
        err.code === "ECONNRESET" || err.code === "EPIPE"
          ? "reset"
          : err.code === "ECONNREFUSED"
            ? "refused"
            : "error";
      settle({ ok: false, reason });
    });
    socket.once("close", () => {
      clearTimeout(timer);
      if (answeredAt === 0) settle({ ok: false, reason: "missing" });
      settle({ ok: true, ms: answeredAt - started });
      resolve(outcome as Outcome);
    });
  });
}

/** A zero count for every reason a transaction can be dropped. */
export function noDrops(): Record<DropReason, number> {
  return { error: 0, reset: 0, refused: 0, missing: 0, wrong: 0, timeout: 0 };
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies = new Float64Array(spec.total);
  const drops = noDrops();
  let issued = 0;
  let ok = 0;
  const started = performance.now();
  const ecu = async (i: number): Promise<void> => {
    const address = ecuAddress(i);
    while (issued < spec.total) {
      issued++;
      const outcome = await transaction(
        spec.nextUpload ? { ...spec, ...spec.nextUpload(i) } : spec,
        address,
      );
      if (outcome.ok) latencies[ok++] = outcome.ms;
      else drops[outcome.reason]++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, i) => ecu(i)));
  const dropped = Object.values(drops).reduce((a, b) => a + b, 0);
  return {
    latencies: latencies.subarray(0, ok),
    ok,
    dropped,
    drops,
    wallMs: performance.now() - started,
  };
}
