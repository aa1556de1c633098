/**
 * Home Assistant's acceptance rules for MQTT discovery, as far as our payloads can hit them
 * (addon_conventions.md §5–6, read from HA core's mqtt/discovery.py, mqtt/schemas.py,
 * mqtt/sensor.py and sensor/const.py). Returns problems as text; an empty list means HA would
 * create every entity without warnings. Used by tests on every payload we produce.
 */

import {
  BINARY_DEVICE_CLASSES,
  DEVICE_CLASS_STATE_CLASSES,
  DEVICE_CLASS_UNITS,
  NON_NUMERIC_CLASSES,
  OBJECT_ID,
  SENSOR_DEVICE_CLASSES,
  STATE_CLASSES,
  SUPPORTED_PLATFORMS,
} from "./haConstants.js";

/** Keys HA inherits from the device payload's root into each component. */
const SHARED_ROOT_KEYS = ["availability", "availability_topic", "state_topic"] as const;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isTopic(v: unknown): boolean {
  return typeof v === "string" && v.length > 0 && !/[#+]/.test(v);
}

function isUrl(v: unknown): boolean {
  if (typeof v !== "string") return false;
  try {
    const url = new URL(v);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function isNonNegativeInt(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

export function checkDiscoveryTopic(topic: string, prefix: string): string[] {
  const device = new RegExp(`^${prefix}/device/(?:${OBJECT_ID}/)?${OBJECT_ID}/config$`);
  const single = new RegExp(`^${prefix}/(\\w+)/(?:${OBJECT_ID}/)?${OBJECT_ID}/config$`);
  if (device.test(topic)) return [];
  const m = single.exec(topic);
  if (m && SUPPORTED_PLATFORMS.has(m[1] ?? "")) return [];
  return [`illegal discovery topic ${topic}`];
}

function checkDevice(device: unknown): string[] {
  if (!isObject(device)) return ["device block missing"];
  const problems: string[] = [];
  const ids = device.identifiers;
  const hasIds =
    (typeof ids === "string" && ids.length > 0) || (Array.isArray(ids) && ids.length > 0);
  const conns = device.connections;
  const hasConns = Array.isArray(conns) && conns.length > 0;
  if (!hasIds && !hasConns) problems.push("device must have at least one identifying value");
  if (Array.isArray(ids) && ids.some((i) => typeof i !== "string" || i === "")) {
    problems.push("device identifiers must be non-empty strings");
  }
  if (hasConns && conns.some((c) => !Array.isArray(c) || c.length !== 2)) {
    problems.push("device connections must be [type, id] pairs");
  }
  if (device.configuration_url !== undefined && !isUrl(device.configuration_url)) {
    problems.push("device configuration_url is not a URL");
  }
  return problems;
}

function checkOrigin(origin: unknown): string[] {
  if (!isObject(origin)) return ["origin missing"];
  const problems: string[] = [];
  if (typeof origin.name !== "string" || origin.name === "") problems.push("origin.name missing");
  if (origin.support_url !== undefined && !isUrl(origin.support_url)) {
    problems.push("origin.support_url is not a URL");
  }
  return problems;
}

function checkSensor(where: string, c: Json): string[] {
  const problems: string[] = [];
  const dc = c.device_class;
  const sc = c.state_class;
  const unit = c.unit_of_measurement;
  if (dc !== undefined && (typeof dc !== "string" || !SENSOR_DEVICE_CLASSES.has(dc))) {
    problems.push(`${where}: unknown sensor device_class ${String(dc)}`);
  }
  if (sc !== undefined && (typeof sc !== "string" || !STATE_CLASSES.has(sc))) {
    problems.push(`${where}: unknown state_class ${String(sc)}`);
  }
  if (typeof dc === "string" && NON_NUMERIC_CLASSES.has(dc)) {
    if (unit !== undefined)
      problems.push(`${where}: a unit is not allowed with device_class ${dc}`);
    if (sc !== undefined)
      problems.push(`${where}: state_class not allowed with device_class ${dc}`);
    if (c.suggested_display_precision !== undefined) {
      problems.push(`${where}: suggested_display_precision needs a numeric sensor`);
    }
  } else if (typeof dc === "string") {
    const units = DEVICE_CLASS_UNITS[dc];
    if (units && (typeof unit !== "string" || !units.includes(unit))) {
      problems.push(
        `${where}: the unit of measurement ${String(unit)} is not valid together with device class ${dc}`,
      );
    }
    const classes = DEVICE_CLASS_STATE_CLASSES[dc];
    if (classes && typeof sc === "string" && !classes.includes(sc)) {
      problems.push(`${where}: state class ${sc} is impossible considering device class ${dc}`);
    }
  }
  if (sc === "measurement_angle" && unit !== "°") {
    problems.push(`${where}: state_class measurement_angle needs unit °`);
  }
  if (c.options !== undefined) {
    if (dc !== "enum") problems.push(`${where}: options require device_class enum`);
    if (!Array.isArray(c.options) || c.options.length === 0) {
      problems.push(`${where}: options must be a non-empty list`);
    }
  } else if (dc === "enum") {
    problems.push(`${where}: device_class enum needs options`);
  }
  if (
    c.suggested_display_precision !== undefined &&
    !isNonNegativeInt(c.suggested_display_precision)
  ) {
    problems.push(`${where}: suggested_display_precision must be a non-negative integer`);
  }
  if (c.expire_after !== undefined && !(isNonNegativeInt(c.expire_after) && c.expire_after !== 0)) {
    problems.push(`${where}: expire_after must be a positive integer`);
  }
  if (c.last_reset_value_template !== undefined && sc !== "total") {
    problems.push(`${where}: last_reset_value_template requires state_class total`);
  }
  return problems;
}

/**
 * Switch and number (mqtt/switch.py, mqtt/number.py, mqtt/schemas.py): a command topic without
 * wildcards is required, a JSON-attributes topic must be a topic; a number needs min < max, a
 * step of at least 0.001, a known mode, and a unit its device class allows. `optimistic` is
 * refused here (issue 19: never show a state the ECU has not taken), and so is a missing
 * state_topic, which makes HA optimistic by default.
 */
function checkCommandable(where: string, c: Json, platform: string): string[] {
  const problems: string[] = [];
  if (!isTopic(c.command_topic)) problems.push(`${where}: ${platform} needs a valid command_topic`);
  if (c.state_topic === undefined) problems.push(`${where}: no state_topic makes HA optimistic`);
  if (c.optimistic !== undefined && c.optimistic !== false) {
    problems.push(`${where}: optimistic mode shows states the device has not taken`);
  }
  if (c.json_attributes_topic !== undefined && !isTopic(c.json_attributes_topic)) {
    problems.push(`${where}: invalid json_attributes_topic`);
  }
  if (c.json_attributes_template !== undefined && typeof c.json_attributes_template !== "string") {
    problems.push(`${where}: json_attributes_template must be a string`);
  }
  if (c.retain !== undefined && typeof c.retain !== "boolean") {
    problems.push(`${where}: retain must be a boolean`);
  }
  if (platform === "switch") {
    for (const key of ["payload_on", "payload_off", "state_on", "state_off"]) {
      if (c[key] !== undefined && typeof c[key] !== "string") {
        problems.push(`${where}: ${key} must be a string`);
      }
    }
    if (c.device_class !== undefined && !["outlet", "switch"].includes(String(c.device_class))) {
      problems.push(`${where}: unknown switch device_class ${String(c.device_class)}`);
    }
  }
  if (platform === "number") {
    const min = c.min ?? 1;
    const max = c.max ?? 100;
    if (typeof min !== "number" || typeof max !== "number" || !(min < max)) {
      problems.push(`${where}: 'min' must be < 'max'`);
    }
    if (c.step !== undefined && !(typeof c.step === "number" && c.step >= 0.001)) {
      problems.push(`${where}: step must be at least 0.001`);
    }
    if (c.mode !== undefined && !["auto", "box", "slider"].includes(String(c.mode))) {
      problems.push(`${where}: invalid number mode ${String(c.mode)}`);
    }
    const dc = c.device_class;
    if (dc !== undefined) {
      const units = typeof dc === "string" ? DEVICE_CLASS_UNITS[dc] : undefined;
      if (!units) problems.push(`${where}: unknown number device_class ${String(dc)}`);
      else if (
        typeof c.unit_of_measurement !== "string" ||
        !units.includes(c.unit_of_measurement)
      ) {
        problems.push(
          `${where}: unit ${String(c.unit_of_measurement)} is not valid for ${String(dc)}`,
        );
      }
    }
  }
  return problems;
}

function checkComponent(where: string, c: unknown, root: Json): string[] {
  if (!isObject(c)) return [`${where}: component is not an object`];
  const problems: string[] = [];
  const platform = c.platform;
  if (typeof platform !== "string" || !SUPPORTED_PLATFORMS.has(platform)) {
    return [`${where}: unsupported platform ${String(platform)}`];
  }
  if (typeof c.unique_id !== "string" || c.unique_id === "") {
    problems.push(`${where}: unique_id missing`);
  }
  const merged: Json = { ...c };
  for (const key of SHARED_ROOT_KEYS) if (merged[key] === undefined) merged[key] = root[key];
  if (c.availability_topic !== undefined && c.availability !== undefined) {
    problems.push(`${where}: availability_topic and availability are mutually exclusive`);
  } else if (merged.availability_topic !== undefined && merged.availability !== undefined) {
    problems.push(`${where}: availability_topic and availability are mutually exclusive`);
  }
  if (merged.availability_topic !== undefined && !isTopic(merged.availability_topic)) {
    problems.push(`${where}: invalid availability_topic`);
  }
  if (merged.availability !== undefined) {
    const list = merged.availability;
    if (!Array.isArray(list) || list.some((a) => !isObject(a) || !isTopic(a.topic))) {
      problems.push(`${where}: availability must be a list of {topic}`);
    }
  }
  if (merged.state_topic !== undefined && !isTopic(merged.state_topic)) {
    problems.push(`${where}: invalid state_topic`);
  }
  if (
    c.availability_mode !== undefined &&
    !["all", "any", "latest"].includes(String(c.availability_mode))
  ) {
    problems.push(`${where}: invalid availability_mode`);
  }
  if (c.entity_category !== undefined) {
    if (c.entity_category !== "diagnostic" && c.entity_category !== "config") {
      problems.push(`${where}: invalid entity_category ${String(c.entity_category)}`);
    } else if (
      c.entity_category === "config" &&
      (platform === "sensor" || platform === "binary_sensor")
    ) {
      problems.push(`${where}: entity_category config cannot be used for ${platform}`);
    }
  }
  if (
    c.icon !== undefined &&
    !(typeof c.icon === "string" && /^[a-z0-9_-]+:[a-z0-9_-]+$/.test(c.icon))
  ) {
    problems.push(`${where}: icon must be prefix:name`);
  }
  if (c.value_template !== undefined && typeof c.value_template !== "string") {
    problems.push(`${where}: value_template must be a string`);
  }
  if (platform === "sensor") problems.push(...checkSensor(where, c));
  if (platform === "switch" || platform === "number") {
    problems.push(...checkCommandable(where, merged, platform));
  }
  if (platform === "binary_sensor") {
    const dc = c.device_class;
    if (dc !== undefined && (typeof dc !== "string" || !BINARY_DEVICE_CLASSES.has(dc))) {
      problems.push(`${where}: unknown binary_sensor device_class ${String(dc)}`);
    }
    if (c.unit_of_measurement !== undefined || c.state_class !== undefined) {
      problems.push(`${where}: binary_sensor takes no unit or state_class`);
    }
  }
  return problems;
}

/**
 * Checks one device-based discovery message. `seenUniqueIds` (shared across calls) catches
 * unique_ids duplicated between devices; HA refuses the second entity.
 */
export function checkDevicePayload(
  topic: string,
  payload: unknown,
  prefix: string,
  seenUniqueIds: Set<string> = new Set(),
): string[] {
  const problems = checkDiscoveryTopic(topic, prefix);
  if (!isObject(payload)) return [...problems, "payload is not a JSON object"];
  problems.push(...checkDevice(payload.device), ...checkOrigin(payload.origin));
  const components = payload.components;
  if (!isObject(components) || Object.keys(components).length === 0) {
    return [...problems, "components missing"];
  }
  for (const [key, c] of Object.entries(components)) {
    const where = `component ${key}`;
    if (!new RegExp(`^${OBJECT_ID}$`).test(key))
      problems.push(`${where}: key is not [a-zA-Z0-9_-]`);
    problems.push(...checkComponent(where, c, payload));
    if (isObject(c) && typeof c.unique_id === "string") {
      if (seenUniqueIds.has(c.unique_id))
        problems.push(`${where}: duplicate unique_id ${c.unique_id}`);
      seenUniqueIds.add(c.unique_id);
    }
  }
  return problems;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Checks a state value the way HA's sensor would when writing it: numeric sensors need finite
 * numbers (or null → unknown), timestamps need an offset, enums one of their options,
 * binary sensors their payload_on/off.
 */
export function checkStateValue(where: string, c: Json, value: unknown): string[] {
  if (value === null) return [];
  const dc = c.device_class;
  if (c.platform === "switch") {
    // HA's switch takes state_on/state_off (default payload_on/off); "None" sets unknown.
    const allowed: unknown[] = [
      c.state_on ?? c.payload_on ?? "ON",
      c.state_off ?? c.payload_off ?? "OFF",
    ];
    return allowed.includes(value)
      ? []
      : [`${where}: ${String(value)} is not ${allowed.join("/")}`];
  }
  if (c.platform === "number") {
    const ok = typeof value === "number" && Number.isFinite(value);
    if (!ok) return [`${where}: ${String(value)} is not a finite number`];
    const { min, max } = c as { min?: number; max?: number };
    return (min === undefined || value >= min) && (max === undefined || value <= max)
      ? []
      : [`${where}: ${value} is outside ${String(min)}..${String(max)}`];
  }
  if (c.platform === "binary_sensor") {
    const allowed: unknown[] = [c.payload_on ?? "ON", c.payload_off ?? "OFF"];
    return allowed.includes(value)
      ? []
      : [`${where}: ${String(value)} is not ${allowed.join("/")}`];
  }
  if (dc === "timestamp") {
    return typeof value === "string" &&
      ISO_WITH_OFFSET.test(value) &&
      !Number.isNaN(Date.parse(value))
      ? []
      : [`${where}: timestamp ${String(value)} has no timezone offset`];
  }
  if (dc === "enum") {
    return Array.isArray(c.options) && c.options.includes(value)
      ? []
      : [`${where}: ${String(value)} is not one of the options`];
  }
  const numeric =
    (typeof dc === "string" && !NON_NUMERIC_CLASSES.has(dc)) ||
    c.state_class !== undefined ||
    c.unit_of_measurement !== undefined ||
    c.suggested_display_precision !== undefined;
  if (numeric && !(typeof value === "number" && Number.isFinite(value))) {
    return [`${where}: ${String(value)} is not a finite number`];
  }
  return [];
}
