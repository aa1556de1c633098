/**
 * How many info lines the exchanges may write (issue 18 point 7): a LAN host can send hundreds
 * of thousands of uploads a minute, each worth a line, and Home Assistant keeps the app's log in
 * the system journal. Each round an ECU sends is logged once (its resends are counted, not
 * logged), and all exchanges together write at most `linesPerWindow` lines a window; what is
 * held back is counted and the count written in one line when the window is over.
 */
import type { Logger } from "../log.js";
import { RecentSet } from "./recent.js";

export const EXCHANGE_LINE_LIMITS = {
  /**
   * Exchange lines per window, all ECUs together. An ECU uploads every 5 minutes and polls for
   * commands about as often, so even 100 ECUs write ~40 a minute; an ECU sending its backlog
   * after an outage, or a flood, is summarised.
   */
  linesPerWindow: 60,
  windowMs: 60_000,
  /** Rounds (ECU id and round time) remembered as logged: a resend of one of them is counted. */
  roundsRemembered: 1000,
};

export type ExchangeLineLimits = typeof EXCHANGE_LINE_LIMITS;

const count = (n: number): string => n.toLocaleString("en-US");

export class ExchangeLines {
  private readonly rounds: RecentSet<string>;
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private resent = 0;
  private over = 0;
  private summary: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly limits: ExchangeLineLimits = EXCHANGE_LINE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.rounds = new RecentSet(limits.roundsRemembered);
  }

  /**
   * Whether the line of an upload of round `timestamp` from `ecu` may be written. `confirmed`:
   * the round was answered as stored; one that was not is not remembered, so that the resend
   * that is confirmed is logged too.
   */
  upload(ecu: string, timestamp: string, confirmed: boolean): boolean {
    if (!confirmed || this.rounds.see(`${ecu} ${timestamp}`)) return this.line();
    this.roll();
    this.resent++;
    this.due();
    return false;
  }

  /** Whether the line of any other exchange may be written. */
  line(): boolean {
    this.roll();
    if (this.written < this.limits.linesPerWindow) {
      this.written++;
      return true;
    }
    this.over++;
    this.due();
    return false;
  }

  /** Writes the count of lines held back now (at stop) instead of at the window's end. */
  flush(): void {
    clearTimeout(this.summary);
    this.summary = undefined;
    const held = this.resent + this.over;
    if (held === 0) return;
    const window = this.limits.windowMs === 60_000 ? "minute" : `${this.limits.windowMs / 1000} s`;
    this.log.info(
      { suppressed: held, resent: this.resent, overLimit: this.over },
      `… ${count(held)} exchange lines suppressed in the last ${window}: ` +
        `${count(this.resent)} resends of rounds already logged, ${count(this.over)} beyond ` +
        `the limit of ${this.limits.linesPerWindow} lines a ${window}`,
    );
    this.resent = 0;
    this.over = 0;
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < this.limits.windowMs) return;
    // A count still due belongs to the window that is over.
    if (this.summary) this.flush();
    this.windowStart = now;
    this.written = 0;
  }

  private due(): void {
    if (this.summary) return;
    const at = Math.max(0, this.windowStart + this.limits.windowMs - this.now());
    this.summary = setTimeout(() => this.flush(), at);
    this.summary.unref();
  }
}
