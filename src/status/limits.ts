/**
 * The status page's own limits (issue 18 point 6). Its clients are a browser or two, through
 * Home Assistant's ingress proxy or on loopback, which send a request's headers in one packet;
 * without limits of its own, clients that never finish their headers held a file descriptor
 * each until Node's 60 s header timeout, and at a container's usual limit of 1024 descriptors
 * took them all from the ECU ports. Not options: no real client comes near them.
 */
export const STATUS_LIMITS = {
  /**
   * Connections held at once. A browser opens at most 6 per origin; 64 serves several tabs and
   * users, and with the ECU ports' max_connections (512) leaves most of a 1024-descriptor limit
   * for the ECUs. At the cap the connection idle longest (no request in progress) is closed to
   * make room, so a flood cannot lock the page's real users out either.
   */
  maxConnections: 64,
  /** A connection whose request headers are not complete this long is answered 408 and closed. */
  headersTimeoutMs: 10_000,
  /** How often Node checks that timeout (its default, 30 s, would let it run to 40 s). */
  checkIntervalMs: 1000,
  /** A connection on which nothing moves this long (e.g. a reader that never reads) is closed. */
  idleTimeoutMs: 30_000,
};
