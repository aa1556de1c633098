/**
 * JSON with object keys sorted at every level, so the same payload always gives the same bytes
 * and "publish only when changed" can compare strings.
 */
export function stableStringify(value: unknown): string {
  // One sorted copy, then a plain JSON.stringify: a replacer function is called for every
  // value and is several times slower, and this runs for every state message.
  return JSON.stringify(sortedCopy(value));
}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  // toJSON (e.g. Date) decides its own form, as it does for JSON.stringify with a replacer.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return sortedCopy((value as { toJSON: () => unknown }).toJSON());
  }
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort())
    sorted[k] = sortedCopy((value as Record<string, unknown>)[k]);
  return sorted;
}
