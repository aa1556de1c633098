import assert from "node:assert/strict";
import { test } from "node:test";
import { mqttSettingsFromOptions } from "../../src/mqtt/settings.js";
import { testOptions } from "../helpers/haHarness.js";

test("no mqtt_host means no MQTT at all", () => {
  assert.equal(mqttSettingsFromOptions(testOptions()), undefined);
});

test("mqtt options become broker settings with the right default port", () => {
  assert.deepEqual(mqttSettingsFromOptions(testOptions({ mqtt_host: "core-mosquitto" })), {
    host: "core-mosquitto",
    port: 1883,
    tls: false,
  });
  assert.deepEqual(
    mqttSettingsFromOptions(
      testOptions({
        mqtt_host: "broker.lan",
        mqtt_tls: true,
        mqtt_username: "addon",
        mqtt_password: "pw",
      }),
    ),
    { host: "broker.lan", port: 8883, tls: true, username: "addon", password: "pw" },
  );
  assert.equal(
    mqttSettingsFromOptions(testOptions({ mqtt_host: "b", mqtt_port: 1884 }))?.port,
    1884,
  );
});
