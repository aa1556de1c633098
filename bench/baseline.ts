import { createServer } from "node:net";

/**
 * The floor: the least any answerer can do — wait for the upload's LF, write a fixed answer.
 * No framing, no decoding, no logging. Run as its own process (like the proxy), so the
 * comparison includes the same process boundary and nothing shares the bench's event loop.
 *
 * usage: node --import tsx bench/baseline.ts PORT ANSWER
 */
const [portArg, answerArg] = process.argv.slice(2);
const answer = Buffer.from(answerArg ?? "", "latin1");
const LF = 0x0a;

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (chunk: Buffer) => {
    if (chunk.includes(LF)) socket.write(answer);
  });
  // A reset client must not kill the floor.
  socket.on("error", () => {});
});
server.listen({ port: Number(portArg), host: "127.0.0.1", backlog: 1024 }, () => {
  process.stdout.write("baseline listening\n");
});
process.once("SIGTERM", () => process.exit(0));
