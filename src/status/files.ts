import { readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";

/**
 * Writes through a temporary file and a rename, so a crash or power cut mid-write leaves the
 * previous file intact instead of a truncated one.
 */
export async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** The file's text, or undefined when it does not exist or cannot be read. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Serialises writes of one file: at most one write runs, and requests made meanwhile cause
 * exactly one more write with the newest content — no sooner than `minIntervalMs` after the
 * previous one, so a flood of frames cannot turn into a flood of writes (SD cards wear out).
 * `flush()` skips the wait.
 */
export class WriteQueue {
  private running: Promise<void> | undefined;
  private pending = false;
  private hurry: (() => void) | undefined;
  private flushing = 0;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly minIntervalMs = 0,
  ) {}

  request(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves when everything requested so far is on disk. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.running) {
        this.hurry?.();
        await this.running;
      }
    } finally {
      this.flushing--;
    }
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.pending = false;
      try {
        await this.write();
      } catch (err) {
        this.onError(err);
      }
      if (!this.pending) break;
      if (this.minIntervalMs > 0 && this.flushing === 0) await this.pause();
    }
    this.running = undefined;
  }

  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.minIntervalMs);
      // The wait alone must not keep the process alive; flush() ends it early.
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        self.hurry = undefined;
        resolve();
      }
      this.hurry = done;
    });
  }
}
