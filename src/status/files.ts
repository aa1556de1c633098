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
 * Serialises writes of one file: at most one write runs, and a request made while it runs
 * causes exactly one more write afterwards with the newest content.
 */
export class WriteQueue {
  private running: Promise<void> | undefined;
  private pending = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
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
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.pending = false;
      try {
        await this.write();
      } catch (err) {
        this.onError(err);
      }
    } while (this.pending);
    this.running = undefined;
  }
}
