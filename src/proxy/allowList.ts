import type { Logger } from "../log.js";
import { type ExchangeListener, ecuIdOf } from "./exchange.js";

/**
 * Wraps a listener so that only exchanges of allowed ECUs reach it (option allowed_ecu_ids;
 * empty = all). Other ECUs are still answered by the server — a neighbour's ECU that found this
 * proxy must not break — but their data is not published; each such id is logged once.
 */
export function allowListed(
  allowedIds: readonly string[],
  listener: ExchangeListener,
  logger: Logger,
): ExchangeListener {
  if (allowedIds.length === 0) return listener;
  const allowed = new Set(allowedIds);
  const reported = new Set<string>();
  const log = logger.child({ module: "allow-list" });
  return (exchange) => {
    const id = ecuIdOf(exchange);
    if (id === undefined || allowed.has(id)) {
      listener(exchange);
      return;
    }
    if (!reported.has(id)) {
      reported.add(id);
      log.info(
        { ecu: id, remote: exchange.remote },
        `ECU ${id} is not in allowed_ecu_ids: answered, but its data is not published`,
      );
    }
  };
}
