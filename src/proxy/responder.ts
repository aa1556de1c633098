import { answerFor } from "../protocol/answers/answerFor.js";
import type { DecodeResult } from "../protocol/types.js";
import type { AnswerSource } from "./exchange.js";

/**
 * Decides what an ECU gets back for one frame; the server writes it. The default answers
 * locally (cloudless); forwarding mode (ema/forwarder.ts) asks EMA first.
 */
export type Responder = (request: {
  frame: Buffer;
  message: DecodeResult;
  port: number;
  remote: string;
}) => Promise<{ answer: Buffer | null; answeredBy: AnswerSource }>;

/** The answer the proxy itself gives (protocol/answers/answerFor.ts); none for errors and unknown kinds. */
export const localResponder: Responder = async ({ message }) => {
  const answer = message.type === "error" ? null : answerFor(message);
  return { answer, answeredBy: answer ? "proxy" : "none" };
};
