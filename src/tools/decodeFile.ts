import { readFileSync } from "node:fs";
import { decodeFrame } from "../protocol/decode.js";
import { Framer } from "../protocol/framer.js";
import { readExport } from "../status/exportFile.js";

/** Large enough for any upload an ECU can build (120 inverters ≈ 15 kB; ECU-3 999). */
const MAX_FRAME = 1024 * 1024;

/**
 * `ecu-proxy decode [FILE ...]`: frames each file (or stdin) like the server does — one message
 * per line, binary ECU11 frames by their length — and prints one JSON object per message.
 * A capture file exported from the status page is recognised by its header line.
 * Exit 1 if any message does not decode.
 */
export function decodeStream(
  files: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  readStdin: () => Buffer,
): number {
  let failed = false;
  const inputs = files.length > 0 ? files : ["-"];
  for (const file of inputs) {
    let data: Buffer;
    try {
      data = file === "-" ? readStdin() : readFileSync(file);
    } catch (e) {
      err.write(`${file}: cannot read: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    const exported = readExport(data);
    if (exported) {
      // A capture file downloaded from the status page: the frames are already delimited.
      for (const problem of exported.problems) err.write(`${file}: ${problem}\n`);
      failed ||= exported.problems.length > 0;
      for (const { line, frame, meta } of exported.frames) {
        const result = decodeFrame(frame);
        if (result.type === "error") {
          err.write(`${file}: line ${line} (${meta.kind}): ${result.code}: ${result.detail}\n`);
          failed = true;
        } else {
          out.write(`${JSON.stringify(result)}\n`);
        }
      }
      continue;
    }
    const framer = new Framer(MAX_FRAME);
    // A file's last line may lack its LF; the framer needs it only for JSON lines.
    const events = framer.push(
      data.at(-1) === 0x0a ? data : Buffer.concat([data, Buffer.from("\n")]),
    );
    let index = 0;
    for (const event of events) {
      index++;
      if (event.kind === "error") {
        err.write(`${file}: message ${index}: ${event.code}: ${event.detail}\n`);
        failed = true;
        continue;
      }
      const result = decodeFrame(event.frame);
      if (result.type === "error") {
        err.write(`${file}: message ${index}: ${result.code}: ${result.detail}\n`);
        failed = true;
        continue;
      }
      out.write(`${JSON.stringify(result)}\n`);
    }
    if (framer.buffered > 0) {
      err.write(`${file}: ${framer.buffered} bytes at the end are an incomplete message\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
