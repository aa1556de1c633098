/**
 * Derives config.yaml's `options:` and `schema:` blocks from src/options/schema.ts, the one
 * option schema. `npx tsx scripts/addon-config.ts` prints both blocks to paste into config.yaml;
 * test/addon/manifest.test.ts proves config.yaml holds exactly what this derives.
 *
 * Supervisor element strings (addon_conventions.md §1.4): bool, port, int(min,max),
 * str(min,max), password(min,max), match(REGEX), list(a|b), a one-element list for arrays,
 * suffix `?` = optional. An option with a default goes into `options:` and is never `?` —
 * unless it is an expert option (`"x-expert": true`): those stay out of `options:` and are
 * optional in `schema:`, so the Supervisor's form hides them until set, and the program fills in
 * their default (src/options/load.ts) when /data/options.json lacks them.
 */
import { pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { optionProperties } from "../src/options/schema.js";

type Prop = Readonly<Record<string, unknown>>;

/** JSON-Schema keywords the conversion understands. Anything else is an error, never ignored. */
const HANDLED = new Set([
  "type",
  "enum",
  "default",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "items",
  "x-supervisor",
  "x-expert",
]);

/**
 * Keywords the Supervisor's schema language cannot express; the program still enforces them
 * (src/options/load.ts) and stops with a message naming the option.
 */
export const PROGRAM_ONLY_KEYWORDS = new Set(["maxItems"]);

function range(min: unknown, max: unknown): string {
  if (min === undefined && max === undefined) return "";
  return `(${min ?? ""},${max ?? ""})`;
}

/** The Supervisor element string for one JSON-Schema property, without the `?` suffix. */
export function elementFor(key: string, prop: Prop): string | string[] {
  for (const k of Object.keys(prop)) {
    if (!HANDLED.has(k) && !PROGRAM_ONLY_KEYWORDS.has(k)) {
      throw new Error(`option ${key}: keyword '${k}' has no Supervisor equivalent`);
    }
  }
  const hint = prop["x-supervisor"];
  switch (prop.type) {
    case "boolean":
      return "bool";
    case "integer":
      if (hint === "port") {
        if (prop.minimum !== 1 || prop.maximum !== 65535) {
          throw new Error(`option ${key}: a port must have minimum 1 and maximum 65535`);
        }
        return "port";
      }
      return `int${range(prop.minimum, prop.maximum)}`;
    case "number":
      return `float${range(prop.minimum, prop.maximum)}`;
    case "string": {
      if (Array.isArray(prop.enum)) return `list(${prop.enum.join("|")})`;
      if (typeof prop.pattern === "string") {
        if (hint === "password") throw new Error(`option ${key}: password with a pattern`);
        // The Supervisor's match() only sees a regex, so the length bounds go into a
        // lookahead. Python's re.match anchors at the start like the `^` of the pattern.
        const lengths =
          prop.minLength === undefined && prop.maxLength === undefined
            ? ""
            : `(?=.{${prop.minLength ?? 0},${prop.maxLength ?? ""}}$)`;
        return lengths ? `match(${lengths}(?:${prop.pattern}))` : `match(${prop.pattern})`;
      }
      const kind = hint === "password" ? "password" : "str";
      return `${kind}${range(prop.minLength, prop.maxLength)}`;
    }
    case "array": {
      const item = elementFor(`${key}[]`, prop.items as Prop);
      if (Array.isArray(item)) throw new Error(`option ${key}: nested lists are not supported`);
      return [item];
    }
    default:
      throw new Error(`option ${key}: type ${String(prop.type)} has no Supervisor equivalent`);
  }
}

/**
 * True for an option the Supervisor's form shows without being set: it has a default and is
 * not an expert option. Everything else is optional (`?`) and hidden until the user sets it.
 */
export function shownByDefault(key: string, prop: Prop): boolean {
  const expert = prop["x-expert"];
  if (expert !== undefined && expert !== true) {
    throw new Error(`option ${key}: x-expert must be true or absent`);
  }
  if (expert && !("default" in prop)) {
    // Without a default the option is hidden anyway, and the program would have no value.
    throw new Error(`option ${key}: an expert option needs a default`);
  }
  return "default" in prop && !expert;
}

/** config.yaml `options:` — the default of every option shown by default, in schema order. */
export function supervisorOptions(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(optionProperties)) {
    if (shownByDefault(key, prop)) out[key] = (prop as Prop).default;
  }
  return out;
}

/** config.yaml `schema:` — one element string (or one-element list) per option. */
export function supervisorSchema(): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, prop] of Object.entries(optionProperties)) {
    const element = elementFor(key, prop);
    const optional = shownByDefault(key, prop) ? "" : "?";
    out[key] = Array.isArray(element)
      ? element.map((e) => `${e}${optional}`)
      : `${element}${optional}`;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(
    stringify(
      { options: supervisorOptions(), schema: supervisorSchema() },
      { defaultStringType: "PLAIN", lineWidth: 0 },
    ),
  );
}
