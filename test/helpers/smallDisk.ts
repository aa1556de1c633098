/**
 * A real, small filesystem for storage-fault tests: a tmpfs of a few hundred KiB mounted on a
 * temporary directory, which can be filled to the last byte (ENOSPC), remounted read-only
 * (EROFS, as the kernel does after a disk error) and back. Mounting needs root (CI runs as root;
 * so does this machine); where it cannot mount, `SmallDisk.mount` returns a reason to skip with.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const mounted = new Set<string>();
process.on("exit", () => {
  for (const dir of mounted) {
    try {
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
    } catch {
      // best effort at exit
    }
  }
});

export class SmallDisk {
  private fillers = 0;

  private constructor(readonly dir: string) {}

  /** A tmpfs of `kib` KiB, or the reason it cannot be made here. */
  static mount(kib: number): SmallDisk | { skip: string } {
    const dir = mkdtempSync(join(tmpdir(), "small-disk-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0755`, "tmpfs", dir], {
        stdio: "pipe",
      });
    } catch (err) {
      return { skip: `cannot mount a tmpfs here (needs root): ${(err as Error).message}` };
    }
    mounted.add(dir);
    return new SmallDisk(dir);
  }

  /** Writes filler files until the filesystem is full (the next write fails with ENOSPC). */
  fill(): void {
    const chunk = Buffer.alloc(4096, 0x41);
    for (;;) {
      const path = join(this.dir, `filler-${this.fillers++}`);
      try {
        writeFileSync(path, chunk);
      } catch {
        // Full: the last file may be partial; small remainders are filled by 1-byte files.
        for (;;) {
          try {
            writeFileSync(join(this.dir, `filler-${this.fillers++}`), "x");
          } catch {
            return;
          }
        }
      }
    }
  }

  /** Removes the filler files: there is room again. */
  free(): void {
    for (let i = 0; i < this.fillers; i++) rmSync(join(this.dir, `filler-${i}`), { force: true });
    this.fillers = 0;
  }

  readOnly(): void {
    execFileSync("mount", ["-o", "remount,ro", this.dir], { stdio: "pipe" });
  }

  readWrite(): void {
    execFileSync("mount", ["-o", "remount,rw", this.dir], { stdio: "pipe" });
  }

  unmount(): void {
    if (!mounted.delete(this.dir)) return;
    execFileSync("umount", ["-l", this.dir], { stdio: "pipe" });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
