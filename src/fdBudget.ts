/**
 * Whether the process's open-files limit holds what the connection limits allow (issue 18
 * point 6): a container's common default is 1024, and once it is reached no port can take a
 * connection in, so every ECU is locked out. Each limit is kept on its own side (the ECU ports'
 * max_connections, the status page's STATUS_LIMITS); this says at start when they do not fit
 * together.
 */
import { readFileSync } from "node:fs";
import type { Logger } from "./log.js";
import { STATUS_LIMITS } from "./status/limits.js";

/**
 * Descriptors besides connections: stdio, Node's own (~20 at start), the journal, the snapshot,
 * the captures file, MQTT, DNS to EMA, with room to spare.
 */
export const RESERVED_FDS = 64;

/** The soft limit on open files (Linux /proc), or undefined where it cannot be read. */
export function openFilesLimit(limitsFile = "/proc/self/limits"): number | undefined {
  try {
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(limitsFile, "utf8"))?.[1];
    if (soft === undefined) return undefined;
    return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return undefined;
  }
}

export interface FdNeeds {
  maxConnections: number;
  /** Forwarding holds one connection to EMA for each ECU connection waiting for its answer. */
  forwarding: boolean;
  statusPage: boolean;
}

export function fdsNeeded(needs: FdNeeds): number {
  return (
    needs.maxConnections * (needs.forwarding ? 2 : 1) +
    (needs.statusPage ? STATUS_LIMITS.maxConnections : 0) +
    RESERVED_FDS
  );
}

/** One warning at start when the limit is below what the connection limits may need. */
export function checkFdBudget(needs: FdNeeds, log: Logger, limit = openFilesLimit()): void {
  const needed = fdsNeeded(needs);
  if (limit === undefined || limit >= needed) return;
  const perConnection = needs.forwarding ? 2 : 1;
  const fits = Math.floor(
    (limit - (needed - perConnection * needs.maxConnections)) / perConnection,
  );
  const parts = [
    `max_connections ${needs.maxConnections}${needs.forwarding ? " twice (forwarding to EMA)" : ""}`,
    ...(needs.statusPage ? [`the status page's ${STATUS_LIMITS.maxConnections}`] : []),
    `${RESERVED_FDS} for the program`,
  ];
  log.warn(
    { openFilesLimit: limit, needed, maxConnections: needs.maxConnections },
    `the open-files limit (${limit}) is below what the connection limits may need (${needed}: ` +
      `${parts.join(", ")}), so a flood could lock ECUs out: ` +
      (fits >= 1 ? `set max_connections to ${fits} or less` : "raise the open-files limit"),
  );
}
