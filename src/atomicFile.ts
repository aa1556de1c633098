/**
 * The one way the proxy writes a file it must not lose (the device state, the captures): the
 * text goes to a temporary file that is renamed over the old one, so a kill -9 leaves either
 * the old or the new file, and the file and its directory are then fsynced, so a power cut does
 * too. Writes are coalesced: at most one runs, and requests made meanwhile cause exactly one
 * more, with the newest text (rendered when that write starts), no sooner than `minIntervalMs`
 * after the previous one — a flood of frames never becomes a flood of writes on an SD card.
 */
import { readFileSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface AtomicFileOptions {
  /** A failed write or sync; the writer goes on (a full disk must not stop the proxy). */
  onError: (err: unknown, what: "write" | "sync") => void;
  minIntervalMs?: number;
  /** File mode of a new file. */
  mode?: number;
}

/** The file's text, or undefined when it does not exist or cannot be read. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export class AtomicFile {
  private render: (() => string) | null = null;
  private waiters: Array<() => void> = [];
  private writing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private lastWriteAt = 0;
  private hurry: (() => void) | null = null;
  /** flush() callers waiting: writes then skip the interval. */
  private flushing = 0;

  constructor(
    readonly path: string,
    private readonly options: AtomicFileOptions,
  ) {}

  /**
   * Writes `render()`'s text. Resolves once a write that began after this call — so one that
   * holds what the caller changed — has replaced the file (a failed one resolves too, logged).
   */
  write(render: () => string): Promise<void> {
    this.render = render;
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      if (!this.writing) this.writing = this.loop();
    });
  }

  /** No write is running or waiting: the file holds everything written so far. */
  get idle(): boolean {
    return this.writing === null;
  }

  /** Resolves once everything requested so far is written and fsynced (skips the interval). */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.writing || this.syncing) {
        this.hurry?.();
        await Promise.all([this.writing, this.syncing]);
      }
    } finally {
      this.flushing--;
    }
  }

  private async loop(): Promise<void> {
    while (this.render) {
      const wait = (this.options.minIntervalMs ?? 0) - (Date.now() - this.lastWriteAt);
      if (wait > 0 && this.flushing === 0) await this.pause(wait);
      const render = this.render;
      const waiters = this.waiters;
      this.render = null;
      this.waiters = [];
      try {
        const text = render();
        const tmp = `${this.path}.tmp-${process.pid}`;
        await writeFile(tmp, text, { encoding: "utf8", mode: this.options.mode ?? 0o644 });
        await rename(tmp, this.path);
        this.scheduleSync();
      } catch (err) {
        this.options.onError(err, "write");
      }
      this.lastWriteAt = Date.now();
      for (const resolve of waiters) resolve();
    }
    this.writing = null;
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.hurry = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // The wait alone must not keep the process alive; flush() ends it early.
      timer.unref();
      this.hurry = done;
    });
  }

  private scheduleSync(): void {
    this.syncAgain = true;
    if (this.syncing) return;
    this.syncing = (async () => {
      while (this.syncAgain) {
        this.syncAgain = false;
        try {
          await syncPath(this.path);
          // The rename itself is durable only once the directory entry is flushed.
          await syncPath(dirname(this.path));
        } catch (err) {
          this.options.onError(err, "sync");
        }
      }
    })().finally(() => {
      this.syncing = null;
    });
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
