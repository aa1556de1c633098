/** Local midnight in the configured zone: today's counters start again from zero. */
import { resetToday } from "./counters.js";
import type { DevicesState } from "./model.js";

/** Starts a new day when the local date changed. Returns true when a day's counters were reset. */
export function rollover(state: DevicesState, today: string): boolean {
  if (state.day === today) return false;
  const hadDay = state.day !== null;
  state.day = today;
  resetToday(Object.values(state.ecus), Object.values(state.inverters));
  return hadDay;
}
