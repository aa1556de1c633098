import type { Responder } from "../proxy/responder.js";
import type { InverterControl } from "./service.js";

/**
 * Puts the user's commands in front of whatever answers otherwise (the local answers, or EMA
 * in forwarding mode): a control poll with a command waiting gets that command and is not
 * forwarded — so the user's commands take precedence over EMA's, whose own commands stay
 * blocked by ema/guard.ts as before. The ECU's acknowledgements of these commands and the A117
 * report it was asked for are this proxy's business and are not forwarded either (EMA did not
 * send the commands); everything else goes on to `next` unchanged.
 */
export function withInverterControl(control: InverterControl, next: Responder): Responder {
  return async (request) => {
    const { message, receivedAt } = request;
    switch (message.type) {
      case "control_poll": {
        const command = control.answerPoll(message.ecuId, receivedAt);
        if (command) return { answer: command, answeredBy: "proxy" };
        break;
      }
      case "control_ack":
        if (control.handleAck(message, receivedAt)) return { answer: null, answeredBy: "proxy" };
        break;
      case "max_power_report":
        if (control.handleReport(message, receivedAt)) return { answer: null, answeredBy: "proxy" };
        break;
    }
    return next(request);
  };
}
