/** ECU11 download query → "file does not exist" (exists flag 0, size 0, CRC 0): no firmware (§8). */
export const NO_FILE_ANSWER = Buffer.concat([
  Buffer.from("ECU11003000010001END0", "latin1"),
  Buffer.alloc(6),
  Buffer.from("END", "latin1"),
]);
