import type { ChildProcess } from "node:child_process";
import { existsSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, spawnTracked, waitForListening } from "./processes.js";

/** Where Debian's package puts the broker (see .ci/run, which installs it). */
const CANDIDATES = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

export function findMosquitto(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

export interface Broker {
  child: ChildProcess;
  port: number;
}

/**
 * A private mosquitto on a free loopback port, config and log in `dir`, no persistence — so
 * no state leaks between runs. It is tracked, so the bench kills it however it ends.
 */
export async function startMosquitto(binary: string, dir: string): Promise<Broker> {
  const port = await freePort();
  const config = join(dir, "mosquitto.conf");
  writeFileSync(
    config,
    [
      "per_listener_settings true",
      "persistence false",
      "log_dest stdout",
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "",
    ].join("\n"),
  );
  const out = openSync(join(dir, "mosquitto.log"), "a");
  const since = performance.now();
  const child = spawnTracked(binary, ["-c", config], { cwd: dir, stdio: ["ignore", out, out] });
  await waitForListening(child, port, since);
  return { child, port };
}
