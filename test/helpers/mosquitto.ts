/**
 * A real mosquitto on a free loopback port in a temp dir, for tests. `stop()`/`start()` restart
 * it on the same port (persistence off, so retained messages are lost, like a crashed broker).
 * Every broker still running when the process exits is killed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort } from "./tcp.js";

export { freePort };

const MOSQUITTO = "/usr/sbin/mosquitto";
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export class Mosquitto {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  /** `auth`: a single user the broker requires (anonymous clients are then refused). */
  static async start(auth?: { username: string; password: string }): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), "mosq-"));
    if (auth) {
      execFileSync("mosquitto_passwd", [
        "-c",
        "-b",
        join(dir, "passwd"),
        auth.username,
        auth.password,
      ]);
    }
    // Another test file may grab the free port before mosquitto binds it: try a few ports.
    for (let attempt = 1; ; attempt++) {
      const broker = new Mosquitto(await freePort(), dir);
      writeFileSync(
        join(dir, "mosquitto.conf"),
        [
          "per_listener_settings true",
          "persistence false",
          "log_dest stdout",
          `listener ${broker.port} 127.0.0.1`,
          ...(auth
            ? // `user root` lets it read the root-owned password file (infra.md §2, gotcha 1).
              ["user root", "allow_anonymous false", `password_file ${join(dir, "passwd")}`]
            : ["allow_anonymous true"]),
          "",
        ].join("\n"),
      );
      try {
        await broker.start();
        return broker;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the broker (again) and waits until it accepts TCP connections. */
  async start(): Promise<void> {
    if (this.child) return;
    const log = openSync(join(this.dir, "mosquitto.log"), "a");
    // Spawned directly (no shell), so the PID is mosquitto's own (infra.md §2, gotcha 2).
    const child = spawn(MOSQUITTO, ["-c", join(this.dir, "mosquitto.conf")], {
      cwd: this.dir,
      stdio: ["ignore", log, log],
    });
    this.child = child;
    live.add(child);
    let exited = false;
    child.once("exit", () => {
      exited = true;
      live.delete(child);
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`mosquitto exited at start; see ${this.dir}/mosquitto.log`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.stop();
    throw new Error(`mosquitto did not accept connections on ${this.port}`);
  }

  /** Stops the broker and waits until the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    await gone;
    clearTimeout(timer);
  }
}
