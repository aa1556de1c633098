/**
 * Time zones without Intl formatters. Any `Intl.DateTimeFormat` (what dayjs' timezone plugin
 * uses) pulls ICU's locale data in: ~8 MiB more resident memory for the whole run. The proxy has
 * one zone — the ECUs' wall clock — so it makes that the process's own local time (TZ) and lets
 * Date's local-time methods, which need only ICU's small zone rules, do the conversions.
 */

/** Names ICU knows as UTC but leaves out of `Intl.supportedValuesOf("timeZone")`. */
const UTC_NAMES = new Set([
  "UTC",
  "Etc/UTC",
  "Etc/UCT",
  "UCT",
  "Etc/Universal",
  "Universal",
  "Etc/Zulu",
  "Zulu",
  "GMT",
  "Etc/GMT",
  "Etc/GMT0",
  "Etc/GMT+0",
  "Etc/GMT-0",
  "GMT0",
  "GMT+0",
  "GMT-0",
  "Etc/Greenwich",
  "Greenwich",
]);

let supported: Set<string> | undefined;

/**
 * The name to use for `zone` (an IANA name, any case, or an alias), or undefined when this
 * runtime does not know it. TZ, unlike Intl, wants the exact spelling: `europe/amsterdam` would
 * silently mean UTC there, so such names are replaced by ICU's canonical spelling.
 */
export function canonicalZone(zone: string): string | undefined {
  if (UTC_NAMES.has(zone)) return zone;
  supported ??= new Set(Intl.supportedValuesOf("timeZone"));
  if (supported.has(zone)) return zone;
  // Aliases (US/Pacific; Europe/Kyiv on older ICU) and other spellings are not listed: ask a
  // formatter, which costs the locale data — only for such names.
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * Makes `zone` the process's local time. Node re-reads its zone rules only when TZ is assigned,
 * so this assigns only when the zone changes (never, outside tests that switch zones).
 */
export function useZone(zone: string): void {
  if (process.env.TZ !== zone) process.env.TZ = zone;
}
