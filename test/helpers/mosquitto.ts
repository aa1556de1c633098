/**
 * A real mosquitto on a free loopback port in a temp dir, for tests. `stop()`/`start()` restart
 * it on the same port (persistence off, so retained messages are lost, like a crashed broker).
 * Every broker still running when the process exits is killed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectAsync } from "mqtt";
import { canConnect, freePort } from "./tcp.js";

export { freePort };

const MOSQUITTO = "/usr/sbin/mosquitto";
/**
 * Brokers take ports below the kernel's ephemeral range (32768–60999 here), where no test's
 * `freePort()` or client socket lands, each test process from its own stretch: a broker that
 * restarts on its port (outage tests) must not find another file's broker there, nor another
 * file's broker find its port while it is down.
 */
const PORT_BASE = 20_000;
const PORT_SPAN = 12_000;
let portsTaken = 0;
function brokerPort(): number {
  return PORT_BASE + ((process.pid * 37 + portsTaken++ * 7919) % PORT_SPAN);
}
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Whether the log, since the broker's latest start, says it listens on `port`. */
function ownsPort(logFile: string, port: number): boolean {
  const text = readFileSync(logFile, "utf8");
  const lastStart = text.lastIndexOf("starting");
  return text.slice(Math.max(lastStart, 0)).includes(`listen socket on port ${port}.`);
}

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
    // Another test file's broker may hold the port: try a few.
    for (let attempt = 1; ; attempt++) {
      const broker = new Mosquitto(brokerPort(), dir);
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
    const logFile = join(this.dir, "mosquitto.log");
    while (Date.now() < deadline) {
      if (exited) throw new Error(`mosquitto exited at start; see ${logFile}`);
      // Accepting connections is not enough: another broker could hold the port. Ours says
      // in its log that it opened it.
      if ((await canConnect(this.port)) && ownsPort(logFile, this.port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.stop();
    throw new Error(`mosquitto did not accept connections on ${this.port}`);
  }

  /**
   * Sets `username`'s password in the broker's password file and has the running broker reload
   * it (SIGHUP, as `mosquitto_passwd` users do), waiting until its log says it did. Logins with
   * the old password are refused from then on; connected clients stay connected.
   */
  async setPassword(username: string, password: string): Promise<void> {
    execFileSync("mosquitto_passwd", ["-b", join(this.dir, "passwd"), username, password]);
    const child = this.child;
    if (!child) return;
    child.kill("SIGHUP");
    // Its log is block-buffered when it is a file: a login with the new password tells instead.
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        const client = await connectAsync({
          host: "127.0.0.1",
          port: this.port,
          username,
          password,
          reconnectPeriod: 0,
          connectTimeout: 1000,
        });
        await client.endAsync();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`mosquitto did not reload: ${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
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
