/**
 * Child process for the kill -9 test: a device registry on the data dir given in argv takes
 * rounds from the given start, one every 5 minutes of ECU time, as fast as it can, and prints
 * each round's time once Home Assistant would have been told (the change is on disk).
 */
import { DeviceRegistry } from "../../src/devices/registry.js";
import { createLogger } from "../../src/log.js";
import { amsterdam, devicesConfig, plusMinutes, upload } from "./rounds.js";

const [dataDir, start, count] = process.argv.slice(2);
if (!dataDir || !start || !count) throw new Error("usage: registryChild <dataDir> <start> <n>");
let now = amsterdam(start);
const registry = new DeviceRegistry(
  devicesConfig(dataDir, createLogger({ level: "error" }), () => now),
);
registry.onChange((change) => {
  for (const ecu of change.ecus) if (ecu.lastRoundTimestamp) console.log(ecu.lastRoundTimestamp);
});
registry.start();
for (let i = 0; i < Number(count); i++) {
  const ts = plusMinutes(start, i * 5);
  now = amsterdam(ts) + 2000;
  const message = upload({
    timestamp: ts,
    lifetimeKWh: 1000 + i * 0.1,
    inverters: [{ uid: "408000000001", panels: [{ powerW: 120 }, { powerW: 118 }] }],
  });
  await registry.acceptUpload(message);
  await new Promise((r) => setTimeout(r, 2));
}
setInterval(() => {}, 1000);
