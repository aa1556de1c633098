/**
 * The value sets Home Assistant core accepts (sensor/const.py, mqtt/discovery.py), as listed in
 * addon_conventions.md §5–6. Kept apart from the checking logic.
 */

export const OBJECT_ID = "[a-zA-Z0-9_-]+";
export const SUPPORTED_PLATFORMS = new Set([
  "sensor",
  "binary_sensor",
  "button",
  "number",
  "select",
  "switch",
  "text",
  "update",
  "event",
]);

/** sensor/const.py DEVICE_CLASS_UNITS (the classes this project could use). */
export const DEVICE_CLASS_UNITS: Readonly<Record<string, readonly string[]>> = {
  power: ["mW", "W", "kW", "MW", "GW", "TW"],
  energy: [
    "J",
    "kJ",
    "MJ",
    "GJ",
    "mWh",
    "Wh",
    "kWh",
    "MWh",
    "GWh",
    "TWh",
    "cal",
    "kcal",
    "Mcal",
    "Gcal",
  ],
  voltage: ["V", "mV", "µV", "kV", "MV"],
  current: ["A", "mA"],
  frequency: ["Hz", "kHz", "MHz", "GHz"],
  temperature: ["°C", "°F", "K"],
  duration: ["d", "h", "min", "s", "ms"],
  signal_strength: ["dB", "dBm"],
  battery: ["%"],
  humidity: ["%"],
};

/** Device classes whose values are not numbers: no unit, no state_class. */
export const NON_NUMERIC_CLASSES = new Set(["timestamp", "date", "enum"]);

/** sensor/const.py DEVICE_CLASS_STATE_CLASSES. */
export const DEVICE_CLASS_STATE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  power: ["measurement"],
  energy: ["total", "total_increasing"],
  voltage: ["measurement"],
  current: ["measurement"],
  frequency: ["measurement"],
  temperature: ["measurement"],
  duration: ["measurement", "total", "total_increasing"],
  signal_strength: ["measurement"],
  battery: ["measurement"],
  humidity: ["measurement"],
  timestamp: [],
  date: [],
  enum: [],
};

export const SENSOR_DEVICE_CLASSES = new Set(Object.keys(DEVICE_CLASS_STATE_CLASSES));
export const BINARY_DEVICE_CLASSES = new Set([
  "connectivity",
  "problem",
  "running",
  "power",
  "plug",
]);
export const STATE_CLASSES = new Set([
  "measurement",
  "measurement_angle",
  "total",
  "total_increasing",
]);
