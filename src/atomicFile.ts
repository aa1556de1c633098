/**
 * The one way the proxy writes a whole file it must not lose (the device snapshot, the
 * captures): the text goes to a temporary file, which is fsynced, renamed over the old one, and
 * the directory fsynced — so a kill -9 or a power cut leaves either the old or the new file,
 * never a torn or empty one (a rename of data not yet on disk can surface as an empty file after
 * a power cut on some filesystems). Writes are coalesced: at most one runs, and requests made
 * meanwhile cause exactly one more, with the newest text (rendered when that write starts), no
 * sooner than `minIntervalMs` after the previous one — a flood of frames never becomes a flood
 * of writes on an SD card.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface AtomicFileOptions {
  /** A failed write; the writer goes on (a full disk must not stop the proxy). */
  onError: (err: unknown, what: "write" | "sync") => void;
  /** A write succeeded (after failures, or every time): the file is durable again. */
  onWritten?: () => void;
  minIntervalMs?: number;
  /** File mode of a new file. */
  mode?: number;
}

/** Where a write of `path` puts its text first; `removeStaleTemps` knows the pattern. */
const TEMP_MARK = ".tmp-";

/** The file's text, or undefined when it does not exist or cannot be read. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Removes the temporary files writes left behind in `dir` (a kill -9 between writing and
 * renaming leaves one per kill). Call at start, before anything writes there. Returns their names.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.includes(TEMP_MARK));
  } catch {
    return [];
  }
  for (const name of names) rmSync(join(dir, name), { force: true });
  return names;
}

export class AtomicFile {
  private render: (() => string) | null = null;
  private waiters: Array<(durable: boolean) => void> = [];
  private writing: Promise<void> | null = null;
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
   * holds what the caller changed — is durable (true), or has failed (false, and logged through
   * `onError`).
   */
  write(render: () => string): Promise<boolean> {
    this.render = render;
    return new Promise<boolean>((resolve) => {
      this.waiters.push(resolve);
      if (!this.writing) this.writing = this.loop();
    });
  }

  /** No write is running or waiting: the file holds everything written so far. */
  get idle(): boolean {
    return this.writing === null;
  }

  /** Resolves once everything requested so far is written (skips the interval). */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.writing) {
        this.hurry?.();
        await this.writing;
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
      let durable = false;
      try {
        await this.replace(render());
        durable = true;
        this.options.onWritten?.();
      } catch (err) {
        this.options.onError(err, "write");
      }
      this.lastWriteAt = Date.now();
      for (const resolve of waiters) resolve(durable);
    }
    this.writing = null;
  }

  private async replace(text: string): Promise<void> {
    const dir = dirname(this.path);
    // A data directory deleted under the running proxy is made again: its memory holds it all.
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${basename(this.path)}${TEMP_MARK}${process.pid}`);
    try {
      const handle = await open(tmp, "w", this.options.mode ?? 0o644);
      try {
        await handle.writeFile(text, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      // A full disk leaves a partial temporary file: give its space back at once.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    // The rename itself is durable only once the directory entry is flushed.
    await syncPath(dir);
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
}

export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
