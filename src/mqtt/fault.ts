/**
 * Why a broker connection failed, in words a user can act on. mqtt.js reports a refused login
 * as "Connection refused: Not authorized" with the CONNACK code in `code`; name the code too,
 * since brokers differ in which one they send for a wrong password (MQTT 3.1.1: 4 or 5).
 */
import { describeError } from "../log.js";

/** MQTT 3.1.1 and 5 CONNACK codes that mean the login itself was refused. */
const LOGIN_CODES = new Set([4, 5, 134, 135]);

/**
 * `handshake`: the attempt failed before the broker answered, over TLS. A plain listener
 * answers a TLS hello by closing (ECONNRESET), which alone would not name the cause.
 */
export function faultReason(err: unknown, handshake = false): string {
  if (err === null || typeof err !== "object") return describeError(err);
  const { message, code } = err as { message?: unknown; code?: unknown };
  const text = typeof message === "string" ? message : "";
  const refused = /^Connection refused: ?(.*)$/.exec(text);
  if (refused && typeof code === "number") {
    const why = (refused[1] ?? "").toLowerCase() || "no reason given";
    const what = LOGIN_CODES.has(code) ? "the broker refused the login" : "the broker refused";
    return `${what}: ${why} (CONNACK code ${code})`;
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `the broker's host name does not resolve (DNS): ${describeError(err)}`;
  }
  if (handshake && (code === "ECONNRESET" || code === "EPROTO")) {
    return `TLS handshake failed (does the broker speak TLS on this port?): ${describeError(err)}`;
  }
  if (typeof code === "string" && /CERT|SSL|TLS/.test(code)) {
    return `TLS handshake failed: ${describeError(err)}`;
  }
  return describeError(err);
}

/**
 * The same reason without the broker's address or anything else from the error's message,
 * for the status page (which may be open to the LAN): the kind of fault and its code.
 */
export function faultSummary(err: unknown, handshake = false): string {
  const reason = faultReason(err, handshake);
  if (reason.startsWith("the broker refused")) return reason;
  const code = (err as { code?: unknown } | null)?.code;
  const kind = reason.startsWith("the broker's host name")
    ? "the broker's host name does not resolve (DNS)"
    : reason.startsWith("TLS handshake failed")
      ? "TLS handshake failed"
      : "the connection failed";
  return typeof code === "string" && /^[A-Z0-9_]+$/.test(code) ? `${kind} (${code})` : kind;
}

/** The delay before retry number `failures` (0-based): doubling from `minMs`, capped. */
export function retryDelay(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
}

/** `50` → "50 ms", `1500` → "1.5 s", `60000` → "60 s": for log lines. */
export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
