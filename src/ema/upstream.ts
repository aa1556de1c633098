import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";

/**
 * Where EMA really is. The user's DNS rewrites `ecu.apsystemsema.com` to this proxy, so the name
 * must never go through the system resolver (it would answer with our own address and every
 * forwarded request would come straight back: protocol.md §1, MSP cf787f1; addon_conventions §7).
 * An IP in `ema_host` is used as it is; a name is asked of `ema_dns_server` only.
 */

export interface ResolvedRecord {
  address: string;
  /** Seconds the record may be cached. */
  ttl: number;
}

/** Resolves a host name to its addresses; injectable so tests never leave loopback. */
export type HostResolver = (host: string) => Promise<ResolvedRecord[]>;

/** A cached answer lives at least this long (a TTL of 0 would mean one query per request)… */
const MIN_CACHE_S = 30;
/** …and at most this long, so a changed EMA address is picked up within minutes. */
const MAX_CACHE_S = 600;

/**
 * A resolver that asks only `server` (option ema_dns_server: an IP, optionally with `:port`, or
 * `[v6]:port`), never the system's resolver. A records first, AAAA when there are none.
 */
export function dnsServerResolver(server: string, timeoutMs: number): HostResolver {
  const resolver = new Resolver({ timeout: Math.max(200, Math.min(timeoutMs, 2000)), tries: 2 });
  try {
    resolver.setServers([server]);
  } catch {
    return async () => {
      throw new Error(
        `option ema_dns_server '${server}' is not an IP address (with optional :port) — set a DNS server address such as 1.1.1.1`,
      );
    };
  }
  return async (host) => {
    try {
      const v4 = await resolver.resolve4(host, { ttl: true });
      if (v4.length > 0) return v4;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENODATA") throw err;
    }
    return resolver.resolve6(host, { ttl: true });
  };
}

/** `ema_host` → an address, through `resolve` with a TTL cache; IPs need no resolving. */
export class UpstreamAddress {
  private cached: { address: string; until: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    readonly host: string,
    private readonly resolve: HostResolver,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `host` is a name that needs resolving (false for a literal IP). */
  get isName(): boolean {
    return isIP(this.host) === 0;
  }

  async lookup(): Promise<string> {
    if (!this.isName) return this.host;
    if (this.cached && this.cached.until > this.now()) return this.cached.address;
    this.pending ??= this.query().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async query(): Promise<string> {
    let records: ResolvedRecord[];
    try {
      records = await this.resolve(this.host);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`cannot resolve ${this.host}: ${e.code ?? e.message}`);
    }
    const first = records.find((r) => isIP(r.address) !== 0);
    if (!first) throw new Error(`cannot resolve ${this.host}: no address in the answer`);
    const ttl = Math.min(MAX_CACHE_S, Math.max(MIN_CACHE_S, first.ttl));
    this.cached = { address: first.address, until: this.now() + ttl * 1000 };
    return first.address;
  }
}

/** Canonical text of an address: IPv4-mapped IPv6 as IPv4, no zone id, lower case. */
export function normaliseAddress(address: string): string {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf("%");
  if (zone !== -1) a = a.slice(0, zone);
  if (a.startsWith("::ffff:") && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}

export type InterfaceList = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Whether `address` is this machine: loopback (127/8, ::1), the unspecified address, or an
 * address of any network interface (injectable list; `os.networkInterfaces()` in production).
 */
export function isOwnAddress(address: string, interfaces: InterfaceList): boolean {
  const a = normaliseAddress(address);
  if (a === "::1" || a === "::" || a === "0.0.0.0" || /^127\./.test(a)) return true;
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (normaliseAddress(info.address) === a) return true;
    }
  }
  return false;
}
