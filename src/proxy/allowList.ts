import type { Logger } from "../log.js";
import { type ExchangeListener, ecuIdOf } from "./exchange.js";
import { RecentSet } from "./recent.js";

/**
 * What the allow-list remembers and logs of refused ECU ids (issue 12 point 9): a host sending
 * ever new ids must grow neither the memory nor the log.
 */
export const REFUSED_ID_LIMITS = {
  /** Refused ids remembered (the most recent); each is named in the log once while remembered. */
  remembered: 1000,
  /** Refused ids named one by one per window; more are counted, and the count logged once. */
  linesPerWindow: 10,
  windowMs: 60 * 60_000,
};

export type RefusedIdLimits = typeof REFUSED_ID_LIMITS;

/** Whether an ECU id passes option allowed_ecu_ids (empty = every ECU). */
export function allowedEcu(allowedIds: readonly string[]): (id: string) => boolean {
  if (allowedIds.length === 0) return () => true;
  const allowed = new Set(allowedIds);
  return (id) => allowed.has(id);
}

/**
 * Wraps a listener so that only exchanges of allowed ECUs reach it (option allowed_ecu_ids;
 * empty = all). Other ECUs are still answered by the server — a neighbour's ECU that found this
 * proxy must not break — but their data is not published. Each such id is logged once (while
 * among the `remembered` most recent), at most `linesPerWindow` ids an hour; ids beyond that are
 * counted and the count written in one line when the hour is over.
 */
export function allowListed(
  allowedIds: readonly string[],
  listener: ExchangeListener,
  logger: Logger,
  limits: RefusedIdLimits = REFUSED_ID_LIMITS,
): ExchangeListener {
  if (allowedIds.length === 0) return listener;
  const allowed = new Set(allowedIds);
  const refused = new RecentSet<string>(limits.remembered);
  const log = logger.child({ module: "allow-list" });
  let windowStart = Number.NEGATIVE_INFINITY;
  let named = 0;
  let unnamed = 0;
  let countDue = false;
  const logCount = (): void => {
    countDue = false;
    log.info(
      { unnamed, windowMs: limits.windowMs },
      `${unnamed} more ECU ids not in allowed_ecu_ids: answered, but their data is not published (only the first ${limits.linesPerWindow} ids of an hour are named)`,
    );
    unnamed = 0;
  };
  return (exchange) => {
    const id = ecuIdOf(exchange);
    if (id === undefined || allowed.has(id)) {
      listener(exchange);
      return;
    }
    if (!refused.see(id)) return;
    const now = Date.now();
    if (now - windowStart >= limits.windowMs) {
      windowStart = now;
      named = 0;
    }
    if (named < limits.linesPerWindow) {
      named++;
      log.info(
        { ecu: id, remote: exchange.remote },
        `ECU ${id} is not in allowed_ecu_ids: answered, but its data is not published`,
      );
      return;
    }
    unnamed++;
    if (countDue) return;
    countDue = true;
    setTimeout(logCount, windowStart + limits.windowMs - now).unref();
  };
}
