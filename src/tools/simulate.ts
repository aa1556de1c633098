import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { parseArgs } from "node:util";
import { answerAccepted, answerFor } from "../protocol/answers/answerFor.js";
import { encodeUpload } from "../protocol/build.js";
import { decodeFrame } from "../protocol/decode.js";

/** The ECU-R waits 10 s for an answer (protocol.md §4.1); so do we. */
const ANSWER_TIMEOUT_MS = 10_000;
/** An id no real ECU has (serial 0), so a simulated device is easy to recognise. */
export const SIMULATED_ECU_ID = "216000000000";

/** `YYYYMMDDhhmmss` of `date` on a wall clock in `timeZone` (the ECU's clock has no zone). */
export function wallClockStamp(date: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    ...(timeZone ? { timeZone } : {}),
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("year")}${get("month")}${get("day")}${get("hour")}${get("minute")}${get("second")}`;
}

/** The simulated inverters, a YC600 and a QS1 (`ecu-proxy simulate --control` switches them). */
export const SIMULATED_INVERTERS = ["408000000001", "806000000001"] as const;

/** What the simulated ECU carried out, per inverter (simulatedEcu.ts). */
export type InverterSettings = ReadonlyMap<string, { on: boolean; limitW: number | null }>;

/**
 * A realistic upload stamped now: one YC600-type and one QS1 inverter. With `settings`, an
 * inverter switched off reports 0 W and a limited one at most its limit, spread over its inputs.
 */
export function simulatedUpload(
  ecuId: string,
  now: Date,
  timeZone?: string,
  settings?: InverterSettings,
): string {
  const [yc600 = "", qs1 = ""] = SIMULATED_INVERTERS;
  const limited = (uid: string, powers: number[]) => {
    const s = settings?.get(uid);
    if (s && !s.on) return powers.map(() => 0);
    if (s?.limitW == null) return powers;
    const share = Math.floor(s.limitW / powers.length);
    return powers.map((p) => Math.min(p, share));
  };
  const channel = (powerW: number) => ({
    dcVoltageV: 33.5,
    dcCurrentA: Math.round((powerW / 33.5) * 10) / 10,
    energyWh: Math.round(((powerW * 300) / 3600) * 1000) / 1000,
    powerW,
  });
  return encodeUpload({
    ecuId,
    timestamp: wallClockStamp(now, timeZone),
    lifetimeEnergyKWh: 1234.5,
    inverters: [
      {
        uid: yc600,
        typeCode: "07",
        acVoltageV: 230,
        frequencyHz: 50,
        temperatureC: 25,
        channels: limited(yc600, [120, 118]).map(channel),
      },
      {
        uid: qs1,
        typeCode: "08",
        acVoltageV: 230,
        frequencyHz: 50,
        temperatureC: 27,
        channels: limited(qs1, [150, 149, 151, 148]).map(channel),
      },
    ],
  });
}

export function exchange(
  host: string,
  port: number,
  frame: Buffer,
  expectedBytes: number | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      if (chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
    }, ANSWER_TIMEOUT_MS);
    socket.on("connect", () => socket.write(Buffer.concat([frame, Buffer.from("\n")])));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const received = chunks.reduce((n, c) => n + c.length, 0);
      // Hang up like the ECU once the answer is complete; an unexpected answer gets a moment
      // for the rest of it.
      if (expectedBytes !== undefined && received >= expectedBytes) socket.end();
      else setTimeout(() => socket.end(), 100);
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(new Error("the server closed the connection without answering"));
    });
  });
}

/** `ecu-proxy simulate`: behaves like an ECU for one upload and judges the answer. */
export async function simulate(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      port: { type: "string", default: "8995" },
      file: { type: "string" },
      "ecu-id": { type: "string", default: SIMULATED_ECU_ID },
      // The ECU stamps uploads with its own wall clock; match the proxy's `timezone` option.
      timezone: { type: "string" },
      // The control-channel loop (simulateControl.ts).
      control: { type: "boolean", default: false },
      "control-port": { type: "string", default: "8997" },
      rounds: { type: "string", default: "1" },
      "interval-seconds": { type: "string", default: "60" },
    },
    strict: true,
  });
  if (!values.host) {
    err.write("simulate: --host is required (the address your ECU's DNS rewrite points to)\n");
    return 2;
  }
  const port = Number(values.port);
  if (values.control) {
    const { simulateControl } = await import("./simulateControl.js");
    return simulateControl(
      {
        host: values.host,
        dataPort: port,
        controlPort: Number(values["control-port"]),
        ecuId: values["ecu-id"],
        ...(values.timezone ? { timezone: values.timezone } : {}),
        rounds: Math.max(1, Number(values.rounds) || 1),
        intervalMs: Math.max(0, Number(values["interval-seconds"]) || 0) * 1000,
      },
      out,
    );
  }
  const frame = values.file
    ? readFileSync(values.file).subarray(0).toString("latin1").replace(/\n$/, "")
    : simulatedUpload(values["ecu-id"], new Date(), values.timezone);
  const message = decodeFrame(Buffer.from(frame, "latin1"));
  if (message.type === "error") {
    err.write(
      `simulate: the message to send does not decode: ${message.code}: ${message.detail}\n`,
    );
    return 2;
  }
  const expected = answerFor(message)?.toString("latin1") ?? null;
  out.write(`sending ${message.type} (${frame.length} bytes) to ${values.host}:${port}\n`);
  const started = Date.now();
  let answer: string;
  try {
    const reply = await exchange(values.host, port, Buffer.from(frame, "latin1"), expected?.length);
    answer = reply.toString("latin1");
  } catch (e) {
    out.write(`FAILED: ${(e as Error).message}\n`);
    out.write("Check that the proxy runs and that this host/port reaches it.\n");
    return 1;
  }
  const ms = Date.now() - started;
  out.write(`answer after ${ms} ms: ${JSON.stringify(answer)}\n`);
  // A poll's "no commands" has two accepted forms (protocol/answers/controlPoll.ts); the rest is exact.
  if (expected !== null && answerAccepted(message, Buffer.from(answer, "latin1"))) {
    out.write("OK: this is the answer EMA would give; an ECU pointed here keeps working.\n");
    return 0;
  }
  out.write(`WRONG: expected ${JSON.stringify(expected)}\n`);
  return 1;
}
