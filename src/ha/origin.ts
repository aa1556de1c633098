import { packageVersion } from "../shipped.js";
import type { Origin } from "./discovery.js";

export const REPOSITORY_URL = "https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy";

/** The `origin` block of every discovery message (shown in HA's MQTT device info). */
export const ORIGIN: Origin = {
  name: "APsystems ECU Proxy",
  sw_version: packageVersion(),
  support_url: REPOSITORY_URL,
};
