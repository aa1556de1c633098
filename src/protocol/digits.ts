/** Fixed-width ASCII number fields, as the ECU firmware writes them. */

/**
 * An all-digit field as a number, or undefined when it holds anything else. Runs ~40 times per
 * inverter record, so it reads char codes in place rather than slicing and matching a regex
 * (3× faster); exact for the ≤ 15-digit fields the protocol has.
 */
export function readUint(text: string, offset: number, width: number): number | undefined {
  const end = offset + width;
  if (width < 1 || offset < 0 || end > text.length) return undefined;
  let value = 0;
  for (let i = offset; i < end; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/** True when `width` (≥ 1) characters from `offset` exist and are all ASCII digits. */
export function allDigits(text: string, offset: number, width: number): boolean {
  return readUint(text, offset, width) !== undefined;
}

/**
 * A length or count field whose leading padding may be `A` instead of `0` (both occur,
 * protocol.md §2; the firmware's reader treats `A` as `0`). All-`A` is not a number.
 */
export function readPadded(text: string, offset: number, width: number): number | undefined {
  const field = text.slice(offset, offset + width);
  if (field.length !== width || !/^A*[0-9]+$/.test(field)) return undefined;
  return Number(field.replace(/A/g, "0"));
}

/**
 * Temperature of the old YC250/YC500 records: three characters, `A`-padded, `B` marks a
 * negative value (`AA5` = 5, `A25` = 25, `AB3` = −3, `B15` = −15; protocol.md §3.2).
 */
export function readSignedText(text: string, offset: number, width: number): number | undefined {
  const field = text.slice(offset, offset + width);
  const match = /^A*(B?)([0-9]+)$/.exec(field);
  if (field.length !== width || !match) return undefined;
  const value = Number(match[2]);
  return match[1] === "B" ? -value : value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (1-12) of the Gregorian calendar; no Date object on the decode path. */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] ?? 0;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return leap ? 29 : 28;
}

/** `YYYYMMDDhhmmss` → `YYYY-MM-DDTHH:mm:ss`, or undefined when it is not a real calendar time. */
export function readTimestamp(text: string, offset: number): string | undefined {
  if (!allDigits(text, offset, 14)) return undefined;
  const year = readUint(text, offset, 4) as number;
  const month = readUint(text, offset + 4, 2) as number;
  const day = readUint(text, offset + 6, 2) as number;
  const hour = readUint(text, offset + 8, 2) as number;
  const minute = readUint(text, offset + 10, 2) as number;
  const second = readUint(text, offset + 12, 2) as number;
  if (year < 2000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined;
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const field = text.slice(offset, offset + 14);
  return `${field.slice(0, 4)}-${field.slice(4, 6)}-${field.slice(6, 8)}T${field.slice(8, 10)}:${field.slice(10, 12)}:${field.slice(12, 14)}`;
}

/** Rounds away binary noise from scaled integers (e.g. 33.800000000000004 → 33.8). */
export function scaled(raw: number, divisor: number): number {
  return Math.round((raw / divisor) * 1e6) / 1e6;
}
