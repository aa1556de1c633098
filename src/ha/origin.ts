import { readFileSync } from "node:fs";
import type { Origin } from "./discovery.js";

export const REPOSITORY_URL = "https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy";

/** Same relative path from src/ha/ (tsx) and dist/ha/ (build) to the package root. */
function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  const pkg = JSON.parse(text) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "0.0.0";
}

/** The `origin` block of every discovery message (shown in HA's MQTT device info). */
export const ORIGIN: Origin = {
  name: "APsystems ECU Proxy",
  sw_version: packageVersion(),
  support_url: REPOSITORY_URL,
};
