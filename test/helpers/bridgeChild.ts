/**
 * Child process for the kill -9 test: runs a bridge (no MQTT) on the data dir given in argv,
 * feeds it one capture round at the given ECU timestamp, then idles until killed.
 */
import { createHomeAssistantBridge } from "../../src/ha/bridge.js";
import { createLogger } from "../../src/log.js";
import { captureUpload, exchangeOf, testOptions } from "./haHarness.js";

const [dataDir, timestamp, nowMs] = process.argv.slice(2);
if (!dataDir || !timestamp || !nowMs) throw new Error("usage: bridgeChild <dataDir> <ts> <now>");
const bridge = createHomeAssistantBridge({
  settings: undefined,
  options: testOptions(),
  dataDir,
  logger: createLogger({ level: "error" }),
  mode: "cloudless",
  now: () => Number(nowMs),
});
await bridge.start();
bridge.handleExchange(exchangeOf(captureUpload({ timestamp })));
setInterval(() => {}, 1000);
