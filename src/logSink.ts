/**
 * Where the log's lines go on their way to stdout. The log must never be why the proxy stops
 * answering ECUs: a reader that is gone (EPIPE: the pipe's other end closed) would otherwise
 * crash the process with an unhandled 'error', and a reader that is stuck (a full pipe) makes
 * Node hold every later line in memory, without bound. So lines beyond LOG_MAX_PENDING_BYTES
 * waiting for the reader are dropped and counted, and one line says how many once it reads
 * again; after an error on stdout nothing more is written.
 */

/** How long log lines may wait to be written together. */
export const LOG_FLUSH_MS = 50;
/** How much may wait to be written together (written at once beyond it). */
const LOG_FLUSH_BYTES = 64 * 1024;
/** Log bytes held for a slow or stuck reader at most; later lines are dropped and counted. */
export const LOG_MAX_PENDING_BYTES = 1024 * 1024;

/** The part of process.stdout the sink uses. */
export interface LogOutput {
  write(text: string): boolean;
  readonly writableLength: number;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "drain", listener: () => void): unknown;
}

export interface LogSinkOptions {
  out: LogOutput;
  /** The line (with its LF) that says `count` lines were dropped. */
  droppedLine: (count: number) => string;
  maxPendingBytes?: number;
}

/**
 * Lines gathered for up to LOG_FLUSH_MS and written together: under a burst of ECUs one write
 * call instead of one per line (a file or a pipe: a system call each, most of a log line's
 * cost). What is pending is written when the process exits, whatever the reason; only a kill -9
 * can lose the last few lines.
 */
export class LogSink {
  private pending = "";
  private pendingLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;
  private broken = false;
  private readonly maxPending: number;

  constructor(private readonly opts: LogSinkOptions) {
    this.maxPending = opts.maxPendingBytes ?? LOG_MAX_PENDING_BYTES;
    opts.out.on("error", () => {
      // EPIPE and its like: the reader is gone for good, and no one is left to tell.
      this.broken = true;
    });
    opts.out.on("drain", () => this.reportDropped());
  }

  /** One record (one or more lines, ending in LF). */
  write(record: string): boolean {
    this.pending += record;
    this.pendingLines++;
    if (this.pending.length >= LOG_FLUSH_BYTES) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), LOG_FLUSH_MS).unref();
    return true;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === "") return;
    const text = this.pending;
    const lines = this.pendingLines;
    this.pending = "";
    this.pendingLines = 0;
    if (this.broken || this.opts.out.writableLength + text.length > this.maxPending) {
      this.dropped += lines;
      return;
    }
    this.reportDropped();
    this.send(text, lines);
  }

  /** Records dropped so far and not yet reported. */
  get droppedLines(): number {
    return this.dropped;
  }

  private reportDropped(): void {
    if (this.dropped === 0 || this.broken) return;
    const count = this.dropped;
    this.dropped = 0;
    this.send(this.opts.droppedLine(count), 0);
  }

  private send(text: string, lines: number): void {
    try {
      this.opts.out.write(text);
    } catch {
      // A file on a full disk throws from a synchronous write: lose the lines, not the proxy.
      this.dropped += lines;
    }
  }
}
