/**
 * Who may read the status page. In the add-on the page is reached only through Home
 * Assistant's ingress proxy (which handles the login), and the Supervisor's ingress proxy
 * always connects from 172.30.32.2 — anything else on the add-on network is refused. Outside
 * the add-on the page binds to loopback unless told otherwise.
 */

/** Source address of the Supervisor's ingress proxy (Home Assistant developer docs, ingress). */
export const INGRESS_PROXY_ADDRESS = "172.30.32.2";
/** The add-on's `ingress_port` (the Supervisor's default, so config.yaml need not set it). */
export const INGRESS_PORT = 8099;

export interface StatusAccess {
  /** Address the page listens on. */
  host: string;
  /** Only these source addresses may read the page; null = any that can connect. */
  allowFrom: string[] | null;
  /** True in the add-on. */
  ingress: boolean;
}

/** The Supervisor gives every add-on a SUPERVISOR_TOKEN; its presence means "in the add-on". */
export function inAddon(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.SUPERVISOR_TOKEN);
}

/** Defaults for what `overrides` leaves out (tests and `--status-host` override them). */
export function statusAccess(
  overrides: Partial<StatusAccess>,
  env: NodeJS.ProcessEnv = process.env,
): StatusAccess {
  const ingress = overrides.ingress ?? inAddon(env);
  const defaults: StatusAccess = ingress
    ? { host: "0.0.0.0", allowFrom: [INGRESS_PROXY_ADDRESS], ingress }
    : { host: "127.0.0.1", allowFrom: null, ingress };
  return {
    host: overrides.host ?? defaults.host,
    allowFrom: overrides.allowFrom !== undefined ? overrides.allowFrom : defaults.allowFrom,
    ingress,
  };
}

/** `::ffff:172.30.32.2` (an IPv4 peer on a dual-stack socket) is `172.30.32.2`. */
export function plainAddress(address: string | undefined): string {
  return (address ?? "").replace(/^::ffff:/, "");
}

export function isLoopbackHost(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost";
}

/**
 * On loopback, only Host headers that name loopback are served: otherwise a web page the user
 * visits could rebind its own name to 127.0.0.1 and read the status page (DNS rebinding).
 */
export function hostHeaderAllowed(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const name = hostHeader.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  return isLoopbackHost(name);
}
