import { answerFor } from "../protocol/answers/answerFor.js";
import { noCommandsAnswer } from "../protocol/answers/controlPoll.js";
import { uploadAnswer } from "../protocol/answers/uploadAck.js";
import type { ControlPollMessage, DecodeResult, UploadMessage } from "../protocol/types.js";
import type { AnswerSource } from "./exchange.js";

/** One frame from an ECU, as the server hands it to the responder. */
export interface ResponderRequest {
  frame: Buffer;
  message: DecodeResult;
  port: number;
  remote: string;
  /** Epoch ms when the complete frame arrived. */
  receivedAt: number;
}

export interface ResponderResult {
  answer: Buffer | null;
  answeredBy: AnswerSource;
  /**
   * Why the request is deliberately left unconfirmed: the server closes the connection without
   * an answer, as EMA does when it cannot take a round, so the ECU keeps the round and sends it
   * again later (protocol.md §4.1, §6).
   */
  refused?: string;
}

/**
 * Decides what an ECU gets back for one frame; the server writes it. The default answers
 * locally (cloudless); forwarding mode (ema/forwarder.ts) asks EMA first.
 */
export type Responder = (request: ResponderRequest) => Promise<ResponderResult>;

/** Whether an upload may be confirmed to the ECU — which then deletes the round (§4.1). */
export type UploadVerdict = { confirm: true } | { confirm: false; reason: string };

/** What the local answers need from the rest of the program. */
export interface AnswerServices {
  /**
   * Takes an upload; resolves `confirm` only once the round is durably stored (or, for an ECU
   * the proxy does not track, needs no storing), else with the reason it is not confirmed.
   */
  storeUpload(upload: UploadMessage, request: ResponderRequest): Promise<UploadVerdict>;
  /** The answer to a control poll: a command queued for the ECU, else "no commands". */
  controlAnswer(poll: ControlPollMessage, request: ResponderRequest): Buffer;
}

/** Without services every upload is confirmed at once and no command is ever sent. */
const STATELESS: AnswerServices = {
  storeUpload: async () => ({ confirm: true }),
  controlAnswer: (poll) => noCommandsAnswer(poll.ecuId),
};

/**
 * The answers the proxy gives itself (protocol/answers): an upload is confirmed only when the
 * services say it may be — the `101` is a promise the ECU acts on by deleting the round — and a
 * control poll gets whatever the services have for that ECU. Errors and unknown kinds get none.
 */
export function createLocalResponder(services: Partial<AnswerServices> = {}): Responder {
  const { storeUpload, controlAnswer } = { ...STATELESS, ...services };
  return async (request) => {
    const { message } = request;
    if (message.type === "error") return { answer: null, answeredBy: "none" };
    if (message.type === "upload") {
      const verdict = await storeUpload(message, request);
      if (!verdict.confirm) return { answer: null, answeredBy: "none", refused: verdict.reason };
      return { answer: uploadAnswer(message.ecu.timestamp), answeredBy: "proxy" };
    }
    if (message.type === "control_poll") {
      return { answer: controlAnswer(message, request), answeredBy: "proxy" };
    }
    const answer = answerFor(message);
    return { answer, answeredBy: answer ? "proxy" : "none" };
  };
}

/** The local answer with no state behind it: every upload confirmed, no command ever sent. */
export const localResponder: Responder = createLocalResponder();
