import { readFileSync } from "node:fs";
import type { ErrorObject } from "ajv";
import { canonicalZone } from "../zone.js";
import { type Options, optionsSchema } from "./schema.js";
import { validate as generatedValidate } from "./validateOptions.generated.js";

/** An option file that cannot be used; `problems` name each bad option and its fix. */
export class OptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid options:\n  ${problems.join("\n  ")}`);
    this.name = "OptionsError";
  }
}

/** ajv's validator for `optionsSchema`, generated ahead of time (scripts/options-validator.ts). */
const validate = generatedValidate as {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
};

function describe(error: ErrorObject): string {
  const key =
    error.keyword === "additionalProperties"
      ? String(error.params.additionalProperty)
      : error.instancePath.replace(/^\//, "").replace(/\//g, ".");
  const name = `option '${key || "(root)"}'`;
  switch (error.keyword) {
    case "additionalProperties":
      return `${name} is not known — remove it (known options: ${Object.keys(optionsSchema.properties).join(", ")})`;
    case "enum":
      return `${name} must be one of ${(error.params.allowedValues as unknown[]).join(", ")} — pick one of them`;
    case "type":
      return `${name} must be of type ${error.params.type} — change its value`;
    case "minimum":
    case "maximum":
      return `${name} ${error.message} — set a value within the allowed range`;
    case "pattern":
      return `${name} has characters that are not allowed (must match ${error.params.pattern}) — correct the value`;
    case "minLength":
      return `${name} must not be empty — enter a value or remove the option`;
    default:
      return `${name} ${error.message ?? "is invalid"} — correct the value`;
  }
}

function timezoneProblem(zone: string): string {
  return `option 'timezone' is not a known IANA time zone ('${zone}') — use a name such as Europe/Amsterdam`;
}

/** Validates raw options (parsed JSON), fills defaults and returns typed options. */
export function parseOptions(raw: unknown): Options {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new OptionsError(["the options must be a JSON object — check the file"]);
  }
  const copy = structuredClone(raw) as Record<string, unknown>;
  // The Supervisor leaves cleared optional fields as empty strings; treat them as unset.
  for (const [key, value] of Object.entries(copy)) {
    if (value === "" || value === null) delete copy[key];
  }
  if (!validate(copy)) {
    throw new OptionsError((validate.errors ?? []).map(describe));
  }
  const options = copy as unknown as Options;
  if (options.timezone !== undefined) {
    const zone = canonicalZone(options.timezone);
    if (zone === undefined) throw new OptionsError([timezoneProblem(options.timezone)]);
    options.timezone = zone;
  }
  return options;
}

/** Reads an options.json file (the add-on's /data/options.json format); no file → defaults. */
export function loadOptions(path: string | undefined): Options {
  if (path === undefined) return parseOptions({});
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new OptionsError([`cannot read options file ${path}: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new OptionsError([`options file ${path} is not valid JSON: ${(err as Error).message}`]);
  }
  return parseOptions(raw);
}

/** The zone used for "today" and for timestamps with an offset. */
export function effectiveTimezone(options: Options, env: NodeJS.ProcessEnv = process.env): string {
  if (options.timezone) return options.timezone;
  const tz = env.TZ ? canonicalZone(env.TZ) : undefined;
  if (tz) return tz;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
