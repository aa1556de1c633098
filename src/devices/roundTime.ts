/**
 * An ECU round's time as a number, without a zone: seconds of its wall-clock reading as if it
 * were UTC. Differences between two rounds of one ECU are then true durations (but for a DST
 * change between them), and the numbers sort like the timestamps; no zone lookup per round.
 */
export function roundSeconds(ecuTimestamp: string): number {
  const y = Number(ecuTimestamp.slice(0, 4));
  const mo = Number(ecuTimestamp.slice(5, 7));
  const d = Number(ecuTimestamp.slice(8, 10));
  const h = Number(ecuTimestamp.slice(11, 13));
  const mi = Number(ecuTimestamp.slice(14, 16));
  const s = Number(ecuTimestamp.slice(17, 19));
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

/** The date part of an ECU timestamp (`YYYY-MM-DDTHH:mm:ss`, already local time). */
export function roundDate(ecuTimestamp: string): string {
  return ecuTimestamp.slice(0, 10);
}
