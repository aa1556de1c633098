import { decodeInverterRecord } from "./decodeInverterRecord.js";
import { readTimestamp, readUint, scaled } from "./digits.js";
import { END, FILL_UP_COMMAND, slice, UPLOAD_SECTION, UPLOAD_SECTION_LENGTH } from "./header.js";
import { readHeaderPower } from "./headerPower.js";
import { ecuModel } from "./models.js";
import type { DecodeError, Inverter, UploadMessage } from "./types.js";

function fail(code: DecodeError["code"], detail: string): DecodeError {
  return { type: "error", code, detail };
}

type NumberName = "power" | "roundEnergy" | "lifetimeEnergy" | "inverterCount";

function readField(text: string, name: NumberName): number | DecodeError {
  const span = UPLOAD_SECTION[name];
  const value = readUint(text, span.offset, span.width);
  if (value === undefined) {
    return fail("bad_number", `ECU field ${name} '${slice(text, span)}' is not a number`);
  }
  return value;
}

/** Decodes an `APS18` upload frame (length already checked by the caller). */
export function decodeUpload(
  text: string,
  ecuId: string,
  command: string,
): UploadMessage | DecodeError {
  if (text.length < UPLOAD_SECTION_LENGTH) {
    return fail(
      "truncated",
      `upload is ${text.length} bytes, shorter than the 86-byte ECU section`,
    );
  }
  if (slice(text, UPLOAD_SECTION.end) !== END) {
    return fail("missing_end", "ECU section does not end with END at offset 83");
  }
  if (!text.endsWith(END)) return fail("missing_end", "upload does not end with END");

  const timestamp = readTimestamp(text, UPLOAD_SECTION.timestamp.offset);
  if (timestamp === undefined) {
    return fail(
      "bad_timestamp",
      `timestamp '${slice(text, UPLOAD_SECTION.timestamp)}' is not a valid YYYYMMDDhhmmss time`,
    );
  }
  // Read in this order: the first bad field is the one reported.
  const power = readField(text, "power");
  if (typeof power === "object") return power;
  const roundEnergy = readField(text, "roundEnergy");
  if (typeof roundEnergy === "object") return roundEnergy;
  const lifetimeEnergy = readField(text, "lifetimeEnergy");
  if (typeof lifetimeEnergy === "object") return lifetimeEnergy;
  const inverterCount = readField(text, "inverterCount");
  if (typeof inverterCount === "object") return inverterCount;

  const body = text.slice(UPLOAD_SECTION_LENGTH, text.length - END.length);
  const records = body === "" ? [] : body.split(END);
  const inverters: Inverter[] = records.map(decodeInverterRecord);
  const notes: string[] = [];
  for (const inv of inverters) {
    if (inv.problem) notes.push(`inverter ${inv.uid} kept raw: ${inv.problem}`);
    else if (inv.layoutInferred) {
      notes.push(
        `inverter ${inv.uid} (${inv.model}): type code '${inv.typeCode}' is unknown, read as type ${inv.layoutInferred} (layout inferred from its id and record length; every value within bounds)`,
      );
    }
  }
  if (inverters.length !== inverterCount) {
    notes.push(
      `header counts ${inverterCount} inverters, the upload carries ${inverters.length} records`,
    );
  }
  const fillUp = command === FILL_UP_COMMAND;
  const header = readHeaderPower({
    raw: power,
    ecuId,
    fillUp,
    invertersOnline: inverterCount,
    inverters,
  });
  notes.push(...header.notes);

  return {
    type: "upload",
    version: text.slice(3, 5),
    fillUp,
    ecu: {
      id: ecuId,
      model: ecuModel(ecuId),
      timestamp,
      powerW: header.powerW,
      lifetimeEnergyKWh: scaled(lifetimeEnergy, UPLOAD_SECTION.lifetimeEnergy.divisor),
      invertersOnline: inverterCount,
      roundEnergyKWh: scaled(roundEnergy, UPLOAD_SECTION.roundEnergy.divisor),
      powerEncoding: header.encoding,
      timezoneChanged: slice(text, UPLOAD_SECTION.timezoneFlag) === "1",
    },
    inverters,
    notes,
  };
}
