import { answerAccepted } from "../protocol/answers/answerFor.js";
import { decodeFrame } from "../protocol/decode.js";
import { exchange, SIMULATED_INVERTERS, simulatedUpload } from "./simulate.js";
import { SimulatedEcuControl } from "./simulatedEcu.js";

export interface ControlRunOptions {
  host: string;
  dataPort: number;
  controlPort: number;
  ecuId: string;
  timezone?: string;
  rounds: number;
  intervalMs: number;
}

/**
 * `ecu-proxy simulate --control`: an ECU's whole loop, round after round — an upload that
 * reflects what the inverters were told (off = 0 W, a limit caps the power), then a control
 * poll session that carries out whatever the server sends (simulatedEcu.ts). With
 * inverter_control on, a change made in Home Assistant shows here as a command, its
 * acknowledgement, and the next upload's power.
 */
export async function simulateControl(
  options: ControlRunOptions,
  out: NodeJS.WritableStream,
): Promise<number> {
  const ecu = new SimulatedEcuControl(
    options.ecuId,
    SIMULATED_INVERTERS,
    options.host,
    options.controlPort,
  );
  for (let round = 1; round <= options.rounds; round++) {
    const upload = simulatedUpload(options.ecuId, new Date(), options.timezone, ecu.inverters);
    const message = decodeFrame(Buffer.from(upload, "latin1"));
    try {
      const answer = await exchange(
        options.host,
        options.dataPort,
        Buffer.from(upload, "latin1"),
        undefined,
      );
      const ok = message.type !== "error" && answerAccepted(message, answer);
      const power = message.type === "upload" ? message.ecu.powerW : null;
      out.write(`round ${round}: upload (${power} W) ${ok ? "confirmed" : "NOT confirmed"}\n`);
    } catch (err) {
      out.write(`round ${round}: upload FAILED: ${(err as Error).message}\n`);
      return 1;
    }
    for (const outcome of await ecu.session()) {
      if (outcome.problem !== undefined) {
        out.write(`  poll: ${outcome.problem}\n`);
      } else if (outcome.command === "A100") {
        out.write("  poll: no more commands\n");
      } else {
        out.write(`  poll: received ${outcome.frame}\n  ack:  sent ${outcome.ack}\n`);
      }
    }
    for (const [uid, inv] of ecu.inverters) {
      out.write(`  inverter ${uid}: ${inv.on ? "on" : "off"}, limit ${inv.limitW ?? "not set"}\n`);
    }
    if (round < options.rounds) await new Promise((r) => setTimeout(r, options.intervalMs));
  }
  return 0;
}
