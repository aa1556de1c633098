import fc from "fast-check";
import { uploadWire } from "./fixtures.js";

/** Generators of hostile input for the decoder and the server (issue: hardening). */

const upload = uploadWire();

export const randomBytes = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a));

export const truncatedUpload = fc.nat({ max: upload.length - 1 }).map((n) => upload.subarray(0, n));

export const mutatedUpload = fc
  .array(fc.tuple(fc.nat({ max: upload.length - 1 }), fc.integer({ min: 0, max: 255 })), {
    minLength: 1,
    maxLength: 8,
  })
  .map((edits) => {
    const copy = Buffer.from(upload);
    for (const [at, value] of edits) copy[at] = value;
    return copy;
  });

/** Length fields that lie: random digits/A-padding, too long, too short, or absurd. */
export const wrongLengthUpload = fc
  .oneof(
    fc.stringMatching(/^[A0-9]{5}$/),
    fc.constantFrom("99999", "AAAAA", "00000", "AA303", "AA301", "A1000", "-0001", "     "),
  )
  .map((field) => Buffer.from(upload.toString("latin1").replace("AA302", field), "latin1"));

export const hugeLengthHeader = fc
  .integer({ min: 65537, max: 99999 })
  .map((n) => Buffer.from(`APS18${n}AAAAAAA1216000064136`, "latin1"));

export const nonAscii = fc
  .string({ unit: "grapheme", maxLength: 200 })
  .map((s) => Buffer.from(`APS18AA302${s}`, "utf8"));

export const hostileInput = fc.oneof(
  randomBytes,
  truncatedUpload,
  mutatedUpload,
  wrongLengthUpload,
  hugeLengthHeader,
  nonAscii,
);
