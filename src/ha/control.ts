/**
 * Inverter control in MQTT (issue 19): the topics, the switch/number components built from
 * controlEntities.ts, and reading a command topic back. Pure; the bridge does the I/O.
 */
import type { ControlRequest } from "../control/service.js";
import {
  type ControlRow,
  ECU_CONTROL_ENTITIES,
  INVERTER_CONTROL_ENTITIES,
} from "./controlEntities.js";

export interface ControlTopics {
  inverterState(uid: string): string;
  ecuState(ecuId: string): string;
  inverterCommand(uid: string, setting: string): string;
  ecuCommand(ecuId: string, setting: string): string;
  /** What the bridge subscribes to (only with the option on). */
  subscriptions: readonly string[];
  /** A command topic read back; undefined for any other topic. */
  parse(topic: string, payload: string): ControlRequest | undefined;
}

const ID = /^[0-9]{12}$/;

export function controlTopics(baseTopic: string): ControlTopics {
  const inverterPrefix = `${baseTopic}/inverter/`;
  const ecuPrefix = `${baseTopic}/ecu/`;
  return {
    inverterState: (uid) => `${baseTopic}/inverter/${uid}/control`,
    ecuState: (id) => `${baseTopic}/ecu/${id}/control`,
    inverterCommand: (uid, setting) => `${baseTopic}/inverter/${uid}/set/${setting}`,
    ecuCommand: (id, setting) => `${baseTopic}/ecu/${id}/set/${setting}`,
    subscriptions: [`${inverterPrefix}+/set/+`, `${ecuPrefix}+/set/+`],
    parse(topic, payload) {
      const prefix = topic.startsWith(inverterPrefix)
        ? "inverter"
        : topic.startsWith(ecuPrefix)
          ? "ecu"
          : undefined;
      if (!prefix) return undefined;
      const rest = topic.slice((prefix === "inverter" ? inverterPrefix : ecuPrefix).length);
      const [id = "", set, setting, ...more] = rest.split("/");
      if (set !== "set" || more.length > 0 || !ID.test(id)) return undefined;
      if (prefix === "ecu") {
        return setting === "inverters_on"
          ? { target: "ecu", ecuId: id, setting: "on", payload }
          : undefined;
      }
      if (setting === "on" || setting === "power_limit") {
        return { target: "inverter", uid: id, setting, payload };
      }
      return undefined;
    },
  };
}

/** One control component in HA's discovery format (no optimistic mode: state_topic is set). */
export interface ControlComponent {
  platform: "switch" | "number";
  unique_id: string;
  name: string;
  icon: string;
  state_topic: string;
  value_template: string;
  command_topic: string;
  json_attributes_topic: string;
  json_attributes_template: string;
  availability: { topic: string }[];
  optimistic: false;
  retain: false;
  payload_on?: "ON";
  payload_off?: "OFF";
  state_on?: "ON";
  state_off?: "OFF";
  device_class?: "power";
  unit_of_measurement?: "W";
  min?: number;
  max?: number;
  step?: number;
  mode?: "box";
}

function component(
  row: ControlRow<string>,
  deviceId: string,
  stateTopic: string,
  commandTopic: string,
  availability: string,
  range?: { min: number; max: number },
): ControlComponent {
  const s = row.setting;
  const attributes = [`"status": value_json.${s}_status`, `"detail": value_json.${s}_detail`];
  attributes.push(`"requested": value_json.${s}_requested`);
  // The inverter's state message says whether its uploads show what the ECU confirmed.
  if (row.setting !== "inverters_on") attributes.push(`"upload_check": value_json.upload_check`);
  if (row.component === "number") {
    attributes.push(`"range_from": value_json.${s}_range`);
  }
  const payload: ControlComponent = {
    platform: row.component,
    unique_id: `${deviceId}_${row.key}`,
    name: row.name,
    icon: row.icon,
    state_topic: stateTopic,
    value_template: `{{ value_json.${row.field} }}`,
    command_topic: commandTopic,
    json_attributes_topic: stateTopic,
    json_attributes_template: `{{ {${attributes.join(", ")}} | tojson }}`,
    availability: [{ topic: availability }],
    optimistic: false,
    retain: false,
  };
  if (row.component === "switch") {
    Object.assign(payload, {
      payload_on: "ON",
      payload_off: "OFF",
      state_on: "ON",
      state_off: "OFF",
    });
  } else {
    Object.assign(payload, {
      device_class: row.device_class,
      unit_of_measurement: row.unit,
      min: range?.min ?? 0,
      max: range?.max ?? 0,
      step: row.step,
      mode: "box",
    });
  }
  return payload;
}

export function inverterControlComponents(
  topics: ControlTopics,
  deviceId: string,
  uid: string,
  availability: string,
  range: { min: number; max: number },
): Record<string, ControlComponent> {
  const out: Record<string, ControlComponent> = {};
  for (const row of INVERTER_CONTROL_ENTITIES) {
    const command = topics.inverterCommand(uid, row.setting);
    out[row.key] = component(
      row,
      deviceId,
      topics.inverterState(uid),
      command,
      availability,
      range,
    );
  }
  return out;
}

export function ecuControlComponents(
  topics: ControlTopics,
  deviceId: string,
  ecuId: string,
  availability: string,
): Record<string, ControlComponent> {
  const out: Record<string, ControlComponent> = {};
  for (const row of ECU_CONTROL_ENTITIES) {
    const command = topics.ecuCommand(ecuId, row.setting);
    out[row.key] = component(row, deviceId, topics.ecuState(ecuId), command, availability);
  }
  return out;
}
