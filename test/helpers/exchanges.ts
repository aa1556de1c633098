import { answerFor } from "../../src/protocol/answers/answerFor.js";
import { decodeFrame } from "../../src/protocol/decode.js";
import type { Exchange } from "../../src/proxy/exchange.js";
import { ECU_ID } from "./fixtures.js";

/** An exchange exactly as the proxy server reports it: decoded and answered locally. */
export function exchangeOf(
  frame: Buffer | string,
  opts: { port?: number; remote?: string; at?: number } = {},
): Exchange {
  const bytes = typeof frame === "string" ? Buffer.from(frame, "latin1") : frame;
  const message = decodeFrame(bytes);
  const answer = message.type === "error" ? null : answerFor(message);
  return {
    receivedAt: opts.at ?? Date.now(),
    port: opts.port ?? 8995,
    remote: opts.remote ?? "::ffff:192.168.1.50",
    frame: bytes,
    message,
    answer,
    answeredBy: answer ? "proxy" : "none",
  };
}

/** Frames of every kind an ECU sends, naming the captured ECU (and one of its inverters). */
export const ECU_FRAMES = {
  sync: `APS13AAA22${ECU_ID}`,
  poll: `APS1300051A101AAA0${ECU_ID}A10100000000000000END`,
  statusReport: (() => {
    const body = "000120240206112214END408000111178070000000001END";
    return `APS15${String(30 + body.length).padStart(5, "0")}A123AAA1${ECU_ID}${body}`;
  })(),
  /** A command this proxy does not know: kept, not answered. */
  // A119 (ECU↔EMA switch) is an EMA→ECU frame: from an ECU it is unknown (an A100 ack is not).
  unknownAps13: `APS1300048A119AAA0${ECU_ID}000000000000001END`,
  /**
   * A message version whose layout is not public, with the ECU id where every APS frame has it
   * and an inverter uid (known from the upload) inside.
   */
  aps16: (() => {
    const rest = `AAAAAAA1${ECU_ID}0000001900408000111178000123END`;
    return `APS16${String(10 + rest.length).padStart(5, "0")}${rest}`;
  })(),
};
