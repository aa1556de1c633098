/**
 * Whether the data directory takes writes, as the user needs to hear it: one error line per
 * fault (with the path and the fix), one line when it works again, a flag for Home Assistant's
 * problem sensor and the status page, and the backoff between attempts while it fails.
 */
import type { Logger } from "../log.js";

export interface StorageProblem {
  /** What could not be written: the journal of rounds, or the snapshot of the state. */
  what: "journal" | "snapshot";
  path: string;
  /** The system's error code (ENOSPC, EROFS, …) or the error's name. */
  code: string;
  message: string;
  /** What the user can do about it. */
  fix: string;
  /** Epoch ms of the first failure of this fault. */
  since: number;
}

export interface StorageHealth {
  ok: boolean;
  problem: StorageProblem | null;
  /** Rounds not confirmed to an ECU because storage failed (since start). */
  unconfirmedRounds: number;
}

/** Backoff between write attempts while storage fails: doubles from the first to the cap. */
export const STORAGE_RETRY = { firstMs: 1000, maxMs: 60_000 };

/** What to do about a failed write, by the system's error code. */
export function storageFix(code: string, dir: string): string {
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return `the disk holding ${dir} is full: free some space (Home Assistant: Settings → System → Storage); the proxy retries by itself`;
    case "EROFS":
      return `${dir} has become read-only (the system remounts a disk read-only after an error): check the disk and restart the host`;
    case "EACCES":
    case "EPERM":
      return `the proxy may not write ${dir}: check its owner and permissions`;
    case "EJOURNALFULL":
      return `the state snapshot in ${dir} cannot be written (see the error before this one); once it can, the journal is emptied and rounds are taken again`;
    case "EIO":
      return `the disk holding ${dir} reports read/write errors: check or replace it (an SD card wears out)`;
    default:
      return `check the disk and the data directory ${dir}`;
  }
}

export function errorCode(err: unknown): string {
  const cause = (err as { cause?: unknown } | null)?.cause ?? err;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  return (cause as Error | null)?.name ?? "Error";
}

export class StorageMonitor {
  private readonly failing = new Map<StorageProblem["what"], StorageProblem>();
  private readonly listeners: Array<(health: StorageHealth) => void> = [];
  private delayMs = 0;
  private retryAt = 0;
  private unconfirmed = 0;

  constructor(
    private readonly log: Logger,
    private readonly dir: string,
    private readonly now: () => number,
  ) {}

  get health(): StorageHealth {
    const problem = this.failing.get("journal") ?? this.failing.get("snapshot") ?? null;
    return { ok: problem === null, problem, unconfirmedRounds: this.unconfirmed };
  }

  onChange(listener: (health: StorageHealth) => void): void {
    this.listeners.push(listener);
  }

  /** The journal failed recently: writes wait for the backoff (the ECU is refused meanwhile). */
  get backingOff(): boolean {
    return this.failing.has("journal") && this.now() < this.retryAt;
  }

  /** A round was left unconfirmed for lack of storage. */
  refusedRound(): void {
    this.unconfirmed++;
  }

  /** `attempted`: a write was tried and failed (then the next one waits for the backoff). */
  failed(what: StorageProblem["what"], path: string, err: unknown, attempted = true): void {
    const code = errorCode(err);
    const message = (err as Error | null)?.message ?? String(err);
    const known = this.failing.get(what);
    if (what === "journal" && attempted) {
      this.delayMs = Math.min(
        STORAGE_RETRY.maxMs,
        this.delayMs === 0 ? STORAGE_RETRY.firstMs : this.delayMs * 2,
      );
      this.retryAt = this.now() + this.delayMs;
    }
    if (known && known.code === code) {
      this.log.debug({ path, code, retryInMs: this.delayMs }, `still cannot write ${path}`);
      return;
    }
    const problem: StorageProblem = {
      what,
      path,
      code,
      message,
      fix: storageFix(code, this.dir),
      since: known?.since ?? this.now(),
    };
    this.failing.set(what, problem);
    this.log.error(
      { path, code, fix: problem.fix },
      what === "journal"
        ? `cannot store rounds in ${path} (${code}): rounds are not confirmed to the ECUs until it works again — they keep them and send them later. Fix: ${problem.fix}`
        : `cannot write the state snapshot ${path} (${code}): rounds are still kept in the journal, which grows until it works again. Fix: ${problem.fix}`,
    );
    this.changed();
  }

  succeeded(what: StorageProblem["what"]): void {
    if (what === "journal") this.delayMs = 0;
    const known = this.failing.get(what);
    if (!known) return;
    this.failing.delete(what);
    const seconds = Math.round((this.now() - known.since) / 1000);
    this.log.info(
      { path: known.path, seconds, unconfirmedRounds: this.unconfirmed },
      what === "journal"
        ? `rounds are stored again (${known.path} failed for ${seconds} s; the ECUs send the rounds left unconfirmed again)`
        : `the state snapshot is written again (${known.path} failed for ${seconds} s)`,
    );
    this.changed();
  }

  private changed(): void {
    const health = this.health;
    for (const listener of this.listeners) {
      try {
        listener(health);
      } catch (err) {
        this.log.error({ err }, "a reader of the storage health failed");
      }
    }
  }
}
