import { messageEcuId } from "../protocol/ecuId.js";
import type { DecodeResult } from "../protocol/types.js";

/** Who produced the answer the ECU got. */
export type AnswerSource = "proxy" | "ema" | "none";

/**
 * One request from an ECU and what it was answered. The server hands every exchange to its
 * listeners after the answer has been written, so nothing a listener does can delay the ECU.
 */
export interface Exchange {
  /** Epoch ms when the complete frame arrived. */
  receivedAt: number;
  /** Local port the ECU connected to. */
  port: number;
  /** Remote address of the ECU. */
  remote: string;
  /** The frame as received (without the trailing LF). */
  frame: Buffer;
  message: DecodeResult;
  answer: Buffer | null;
  answeredBy: AnswerSource;
  /** Left unconfirmed on purpose, and why (responder.ts): the connection was closed unanswered. */
  refused?: string;
}

export type ExchangeListener = (exchange: Exchange) => void;

/** The ECU id an exchange's message names; undefined for messages that name none. */
export function ecuIdOf(exchange: Exchange): string | undefined {
  return messageEcuId(exchange.message);
}
