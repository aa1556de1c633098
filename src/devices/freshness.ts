/**
 * Whether a round's values may be shown as live. ECUs resend buffered rounds after outages and
 * at night (protocol.md §5–6), a clock can jump, and a LAN host can send any time at all: a
 * round is live only when its own time, read in the configured zone, is close to the wall
 * clock and newer than the last live round. Older rounds still count toward energy (counters.ts);
 * rounds from the future never become the reference, so one bad clock cannot freeze the rest.
 */

/** How far ahead of the wall clock an ECU's clock may run before its rounds are refused. */
export const MAX_AHEAD_MINUTES = 10;

export type RoundFreshness =
  /** Newest round, close to now: its values are the live ones. */
  | "live"
  /** Older than the live window (resent or buffered): counted, not shown. */
  | "backlog"
  /** Within the window but not newer than the last live round (a resend, or out of order). */
  | "seen"
  /** Dated too far ahead of the wall clock: refused. */
  | "ahead";

export interface FreshnessInput {
  /** The round's instant in the configured zone (epoch ms). */
  roundAtMs: number;
  nowMs: number;
  /** Option offline_after_minutes: a round older than this would already count as offline. */
  liveWindowMs: number;
  /** ECU-local seconds (roundTime.ts) of this round and of the last live one. */
  roundS: number;
  lastLiveS: number | null;
}

export function roundFreshness(input: FreshnessInput): RoundFreshness {
  const { roundAtMs, nowMs } = input;
  if (!Number.isFinite(roundAtMs) || roundAtMs - nowMs > MAX_AHEAD_MINUTES * 60_000) {
    return "ahead";
  }
  if (nowMs - roundAtMs > input.liveWindowMs) return "backlog";
  if (input.lastLiveS !== null && input.roundS <= input.lastLiveS) return "seen";
  return "live";
}
