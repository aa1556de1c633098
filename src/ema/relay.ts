import { connect } from "node:net";
import { answerState } from "./replyCheck.js";

/**
 * One request to EMA over its own short-lived connection, as the ECU itself does (connect, send,
 * read the reply, close — protocol.md §1). EMA's answers have no common length prefix (an upload
 * reply is just `101` + timestamp, §4), so the answer ends at the first of:
 * - EMA closing the connection;
 * - a quiet pause of `quietMs` after the last bytes, once the bytes are not an unfinished frame
 *   (an APS frame short of its length field, `1NN` short of NN timestamps, ECU11 short of its
 *   length — see replyCheck.ts). The pause also catches a trailing LF or a second frame, e.g. a
 *   command frame after an A123 status answer (§7);
 * - `timeoutMs` after the start (connect included): then it fails unless a whole answer is there.
 * The bytes are returned exactly as received.
 */

export type RelayFailure =
  | "connect"
  | "timeout"
  | "closed"
  | "incomplete"
  | "too_large"
  | "aborted";

export class RelayError extends Error {
  constructor(
    readonly reason: RelayFailure,
    message: string,
  ) {
    super(message);
    this.name = "RelayError";
  }
}

export interface RelayRequest {
  host: string;
  port: number;
  data: Buffer;
  timeoutMs: number;
  /** The whole limit this request is part of (DNS included), for messages; default timeoutMs. */
  limitMs?: number;
  quietMs: number;
  /** Largest answer accepted (EMA's answers are tens of bytes; ECU11 chunks ~1 KiB). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export function relay(request: RelayRequest): Promise<Buffer> {
  const { host, port, data, timeoutMs, quietMs, maxBytes = 64 * 1024, signal } = request;
  const limitMs = request.limitMs ?? timeoutMs;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let connected = false;
    let settled = false;
    let quiet: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const received = () => Buffer.concat(chunks, size);

    const socket = connect({ host, port });
    const finish = (error?: RelayError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(quiet);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(received());
    };
    const onAbort = () => finish(new RelayError("aborted", `request to EMA at ${where} cancelled`));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });

    deadline = setTimeout(() => {
      if (size > 0 && answerState(received()) === "complete") return finish();
      if (!connected) {
        return finish(
          new RelayError("connect", `no connection to EMA at ${where} within ${limitMs} ms`),
        );
      }
      finish(
        new RelayError(
          "timeout",
          size === 0
            ? `EMA at ${where} did not answer within ${limitMs} ms`
            : `EMA's answer from ${where} was still incomplete after ${limitMs} ms (${size} bytes)`,
        ),
      );
    }, timeoutMs);

    socket.setNoDelay(true);
    socket.once("connect", () => {
      connected = true;
      socket.write(data);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        return finish(
          new RelayError("too_large", `EMA's answer from ${where} exceeds ${maxBytes} bytes`),
        );
      }
      clearTimeout(quiet);
      if (answerState(received()) !== "incomplete") quiet = setTimeout(() => finish(), quietMs);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      finish(
        new RelayError(
          connected ? "closed" : "connect",
          `${connected ? "connection to" : "cannot connect to"} EMA at ${where}: ${err.code ?? err.message}`,
        ),
      );
    });
    socket.on("close", () => {
      if (size === 0) {
        return finish(
          new RelayError("closed", `EMA at ${where} closed the connection without an answer`),
        );
      }
      if (answerState(received()) === "incomplete") {
        return finish(
          new RelayError(
            "incomplete",
            `EMA at ${where} closed the connection in the middle of an answer (${size} bytes)`,
          ),
        );
      }
      finish();
    });
  });
}
