import { connect } from "node:net";
import { apsFrame } from "../protocol/answers/apsFrame.js";
import { readControlAnswer } from "../protocol/answers/controlPoll.js";
import { declaredLength } from "../protocol/frameLength.js";

/** The firmware waits 10 s for the server's answer to a poll (control.con `Timeout=10`). */
const ANSWER_TIMEOUT_MS = 10_000;
/** Polls in one session at most, so a server that never says "no more commands" cannot loop us. */
const MAX_POLLS_PER_SESSION = 20;
/** MAXPOWER_RANGE of FW-R18 and FW-ECU3: 20..300 W. */
const RANGE = { minW: 20, maxW: 300 };

/** One inverter as the simulated ECU keeps it. */
export interface SimulatedInverter {
  on: boolean;
  /** Maximum power set by A110, W; null when never set. */
  limitW: number | null;
}

/** What one poll of a session brought. */
export interface PollOutcome {
  command: string;
  /** The server's frame as received. */
  frame: string;
  /** The acknowledgement sent (none after "no more commands" or an unreadable answer). */
  ack?: string;
  problem?: string;
}

/**
 * The ECU's side of the control channel (port 8997) as FW-R18's control_client.c runs it: send
 * the A101 poll (+LF), read the answer (the server sends no LF; the length field says when it is
 * complete), carry out the command, send the acknowledgement built like `msg_ACK` on the same
 * connection, close, and poll again at once until the answer is "no more commands" (A100).
 * A111 and A110 change the inverters kept here; A117 is acknowledged and then reported on a
 * connection of its own; any other command is acknowledged with result 2, as the firmware does
 * for a command it has no handler for.
 */
export class SimulatedEcuControl {
  readonly inverters = new Map<string, SimulatedInverter>();
  /**
   * Commands to refuse, with the result digit to answer instead of carrying them out: shows how
   * the proxy reports a refusal without a real ECU that refuses.
   */
  readonly refuse = new Map<string, string>();

  constructor(
    readonly ecuId: string,
    uids: readonly string[],
    private readonly host: string,
    private readonly port: number,
  ) {
    for (const uid of uids) this.inverters.set(uid, { on: true, limitW: null });
  }

  /** One poll session, as every `Report_Interval` (15 min) on a real ECU. */
  async session(): Promise<PollOutcome[]> {
    const outcomes: PollOutcome[] = [];
    for (let i = 0; i < MAX_POLLS_PER_SESSION; i++) {
      const outcome = await this.pollOnce();
      outcomes.push(outcome);
      if (outcome.command === "A100" || outcome.problem !== undefined) break;
    }
    return outcomes;
  }

  private async pollOnce(): Promise<PollOutcome> {
    const poll = apsFrame("13", "0", `A101AAA0${this.ecuId}A101${"0".repeat(14)}END`);
    const socket = connect({ host: this.host, port: this.port });
    try {
      const frame = await new Promise<string>((resolve, reject) => {
        let text = "";
        const timer = setTimeout(
          () => reject(new Error("no answer within 10 s")),
          ANSWER_TIMEOUT_MS,
        );
        socket.on("connect", () => socket.write(Buffer.concat([poll, Buffer.from("\n")])));
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString("latin1");
          const length = text.length >= 10 ? declaredLength(text, "APS") : undefined;
          if (length !== undefined && text.length >= length) {
            clearTimeout(timer);
            resolve(text);
          }
        });
        socket.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
        socket.on("close", () => {
          clearTimeout(timer);
          reject(new Error(`connection closed after ${text.length} bytes`));
        });
      });
      const read = readControlAnswer(Buffer.from(frame, "latin1"), this.ecuId);
      if ("problem" in read) return { command: "", frame, problem: read.problem };
      if (read.command === "A100") return { command: "A100", frame };
      const { result, timestamp } = this.carryOut(read.command, frame);
      const ack = apsFrame(
        "13",
        "0",
        `A100AAA0${this.ecuId}${read.command}${timestamp}${result}END`,
      );
      await new Promise<void>((resolve) =>
        socket.write(Buffer.concat([ack, Buffer.from("\n")]), () => resolve()),
      );
      if (read.command === "A117" && result === "0") await this.reportMaxPower();
      return { command: read.command, frame, ack: ack.toString("latin1") };
    } catch (err) {
      return { command: "", frame: "", problem: (err as Error).message };
    } finally {
      socket.end();
    }
  }

  /** The handlers' effect and result digit (`0` done; `1` here for a frame they cannot read). */
  private carryOut(command: string, frame: string): { result: string; timestamp: string } {
    const refused = this.refuse.get(command);
    if (refused !== undefined) {
      const at = frame.slice(10, 14) === "A101" ? 34 : 35;
      return { result: refused, timestamp: frame.slice(at, at + 14) };
    }
    if (command === "A117") return { result: "0", timestamp: frame.slice(34, 48) };
    const timestamp = frame.slice(35, 49);
    const type = frame.slice(30, 31);
    const count = Number(frame.slice(31, 35));
    if (command === "A111") {
      if (type === "0" || type === "1") {
        for (const inv of this.inverters.values()) inv.on = type === "0";
        return { result: "0", timestamp };
      }
      const entries = listed(frame, count, 13);
      if (type !== "2" || !entries) return { result: "1", timestamp };
      for (const e of entries) {
        const inv = this.inverters.get(e.slice(0, 12));
        if (inv) inv.on = e.slice(12) === "0";
      }
      return { result: "0", timestamp };
    }
    if (command === "A110") {
      if (type === "0") {
        const watts = Number(frame.slice(52, 55));
        if (!/^[0-9]{3}END$/.test(frame.slice(52, 58))) return { result: "1", timestamp };
        for (const inv of this.inverters.values()) inv.limitW = watts;
        return { result: "0", timestamp };
      }
      const entries = listed(frame, count, 15);
      if (type !== "1" || !entries) return { result: "1", timestamp };
      for (const e of entries) {
        const inv = this.inverters.get(e.slice(0, 12));
        if (inv) inv.limitW = Number(e.slice(12, 15));
      }
      return { result: "0", timestamp };
    }
    const at = frame.slice(10, 14) === "A101" ? 34 : 35;
    return { result: "2", timestamp: frame.slice(at, at + 14) };
  }

  /** The A117 report, on its own connection, not waiting for an answer (controlReports.ts). */
  private async reportMaxPower(): Promise<void> {
    const entries = [...this.inverters].map(([uid, inv]) => {
      const limit = inv.limitW === null ? "-01" : String(inv.limitW).padStart(3, "0");
      return `${uid}${limit}${String(RANGE.minW).padStart(3, "0")}${RANGE.maxW}END`;
    });
    const count = String(entries.length).padStart(4, "0");
    const report = apsFrame(
      "13",
      "0",
      `A117AAA0${this.ecuId}${count}${"0".repeat(14)}END${entries.join("")}`,
    );
    await new Promise<void>((resolve) => {
      const socket = connect({ host: this.host, port: this.port }, () => {
        socket.end(Buffer.concat([report, Buffer.from("\n")]));
      });
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });
  }
}

/** `count` entries of `width` characters + `END` from byte 52 and nothing after; else null. */
function listed(frame: string, count: number, width: number): string[] | null {
  const body = frame.slice(52);
  if (!Number.isInteger(count) || count < 1 || body.length !== count * (width + 3)) return null;
  const entries: string[] = [];
  for (let i = 0; i < count; i++) {
    const entry = body.slice(i * (width + 3), (i + 1) * (width + 3));
    if (!entry.endsWith("END") || !/^[0-9]+$/.test(entry.slice(0, width))) return null;
    entries.push(entry.slice(0, width));
  }
  return entries;
}
