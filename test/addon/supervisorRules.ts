/**
 * The Supervisor's own validation rules for config.yaml that the add-on linter's JSON schema
 * does not check (../shared/addon_conventions.md §1.3–1.4; supervisor `apps/validate.py`,
 * `apps/options.py`, `apps/const.py`), transcribed for the tests.
 */

/** `apps/const.py` RE_SLUG */
export const RE_SLUG = /^[-_.A-Za-z0-9]+$/;
/** `apps/validate.py` ports keys */
export const RE_PORT_KEY = /^\d+(?:\/tcp|\/udp)?$/;
/** `apps/validate.py` RE_SERVICE */
export const RE_SERVICE = /^(?:mqtt|mysql):(?:provide|want|need)$/;
/** `apps/options.py` RE_SCHEMA_ELEMENT (Python named groups rewritten for JavaScript). */
export const RE_SCHEMA_ELEMENT = new RegExp(
  "^(?:" +
    "|bool" +
    "|email" +
    "|url" +
    "|port" +
    "|device(?:\\((?<filter>subsystem=[a-z]+)\\))?" +
    "|str(?:\\((?<s_min>\\d+)?,(?<s_max>\\d+)?\\))?" +
    "|password(?:\\((?<p_min>\\d+)?,(?<p_max>\\d+)?\\))?" +
    "|int(?:\\((?<i_min>-?\\d+)?,(?<i_max>-?\\d+)?\\))?" +
    "|float(?:\\((?<f_min>-?\\d*\\.?\\d+)?,(?<f_max>-?\\d*\\.?\\d+)?\\))?" +
    "|match\\((?<match>.*)\\)" +
    "|list\\((?<list>.+)\\)" +
    ")\\??$",
);

/**
 * What the Supervisor does with one option value for one schema element (`apps/options.py`
 * `_single_validate`), for typed JSON values: true = accepted. `int`/`float` use inclusive
 * ranges, `str`/`password` length ranges in code points, `port` 1–65535, `match` is Python's
 * `re.match` (anchored at the start only), `list(a|b)` compares with the literal strings.
 */
export function supervisorAccepts(element: string, value: unknown): boolean {
  const m = RE_SCHEMA_ELEMENT.exec(element);
  if (!m?.groups) throw new Error(`not a Supervisor schema element: ${element}`);
  const g = m.groups;
  const base = element.replace(/\?$/, "");
  const inRange = (n: number, min?: string, max?: string) =>
    (min === undefined || n >= Number(min)) && (max === undefined || n <= Number(max));
  if (base === "bool") return typeof value === "boolean";
  if (base === "port") return Number.isInteger(value) && inRange(value as number, "1", "65535");
  if (base.startsWith("int")) {
    return Number.isInteger(value) && inRange(value as number, g.i_min, g.i_max);
  }
  if (base.startsWith("float")) {
    return typeof value === "number" && inRange(value, g.f_min, g.f_max);
  }
  if (base.startsWith("str") || base.startsWith("password")) {
    if (typeof value !== "string") return false;
    return inRange([...value].length, g.s_min ?? g.p_min, g.s_max ?? g.p_max);
  }
  if (g.match !== undefined) {
    // The sticky flag makes JavaScript match only at index 0, like Python's re.match.
    return typeof value === "string" && new RegExp(g.match, "uy").test(value);
  }
  if (g.list !== undefined) return typeof value === "string" && g.list.split("|").includes(value);
  throw new Error(`element ${element} is not emulated`);
}
