/**
 * Pure builder of device-based discovery messages (`<prefix>/device/<object_id>/config`,
 * Home Assistant 2024.11+; addon_conventions §5): one per ECU, one per inverter.
 */
import {
  type ControlComponent,
  type ControlTopics,
  ecuControlComponents,
  inverterControlComponents,
} from "./control.js";
import { ECU_ENTITIES } from "./ecuEntities.js";
import type { EntityRow, SensorDeviceClass, StateClass, Unit } from "./entityRow.js";
import { CHANNEL_ENTITIES, INVERTER_ENTITIES } from "./inverterEntities.js";
import { ecuDeviceId, inverterDeviceId, type Topics } from "./topics.js";

export interface Origin {
  name: string;
  sw_version: string;
  support_url: string;
}

export interface DeviceBlock {
  identifiers: string[];
  name: string;
  manufacturer: "APsystems";
  model: string;
  serial_number: string;
  via_device?: string;
}

export interface AvailabilityEntry {
  topic: string;
}

export interface ComponentPayload {
  platform: "sensor" | "binary_sensor";
  unique_id: string;
  name: string;
  state_topic: string;
  value_template: string;
  availability: AvailabilityEntry[];
  availability_mode?: "all";
  device_class?: SensorDeviceClass | "connectivity" | "problem";
  state_class?: StateClass;
  unit_of_measurement?: Unit;
  suggested_display_precision?: number;
  entity_category?: "diagnostic";
  enabled_by_default?: false;
  options?: string[];
  payload_on?: "ON";
  payload_off?: "OFF";
  json_attributes_topic?: string;
  json_attributes_template?: string;
}

export interface DevicePayload {
  device: DeviceBlock;
  origin: Origin;
  components: Record<string, ComponentPayload | ControlComponent>;
}

export interface DiscoveryMessage {
  topic: string;
  payload: DevicePayload;
}

export interface DiscoveryContext {
  topics: Topics;
  origin: Origin;
  /** Inverter control's topics; only with option inverter_control. */
  control?: ControlTopics;
}

export interface EcuDescription {
  id: string;
  model: string;
  /** Forwarding mode adds the EMA diagnostics. */
  forwarding?: boolean;
  /** Option inverter_control adds the all-inverters switch. */
  control?: boolean;
}

export interface InverterDescription {
  uid: string;
  ecuId: string;
  model: string;
  typeCode: string;
  channelCount: number;
  /** Adds the L2/L3 voltage sensors. */
  threePhase?: boolean;
  /** Option inverter_control: the switch, and the power-limit number within this range. */
  control?: { min: number; max: number };
}

/** Where one device's entities read from; shared by all its components. */
interface DeviceTopics {
  deviceId: string;
  stateTopic: string;
  proxyAvailability: string;
  uploadAvailability: string;
}

/** One row of the entity table as a component; `key`/`name`/`valuePath` differ per channel. */
function component(
  row: EntityRow<string>,
  at: DeviceTopics,
  key: string,
  name: string,
  valuePath: string,
): ComponentPayload {
  const payload: ComponentPayload = {
    platform: row.component,
    unique_id: `${at.deviceId}_${key}`,
    name,
    state_topic: at.stateTopic,
    value_template: `{{ value_json.${valuePath} }}`,
    availability:
      row.availability === "upload"
        ? [{ topic: at.proxyAvailability }, { topic: at.uploadAvailability }]
        : [{ topic: at.proxyAvailability }],
  };
  if (row.availability === "upload") payload.availability_mode = "all";
  if (row.device_class) payload.device_class = row.device_class;
  if (row.component === "sensor") {
    if (row.state_class) payload.state_class = row.state_class;
    if (row.unit) payload.unit_of_measurement = row.unit;
    if (row.precision !== undefined) payload.suggested_display_precision = row.precision;
    if (row.options) payload.options = [...row.options];
  } else {
    payload.payload_on = "ON";
    payload.payload_off = "OFF";
  }
  if (row.entity_category) payload.entity_category = row.entity_category;
  if (row.enabled_by_default === false) payload.enabled_by_default = false;
  if (row.attributes) {
    payload.json_attributes_topic = at.stateTopic;
    const pairs = row.attributes.map((a) => `'${a}': value_json.${a}`).join(", ");
    payload.json_attributes_template = `{{ {${pairs}} | tojson }}`;
  }
  return payload;
}

export function ecuDiscovery(ctx: DiscoveryContext, ecu: EcuDescription): DiscoveryMessage {
  const deviceId = ecuDeviceId(ecu.id);
  const at: DeviceTopics = {
    deviceId,
    stateTopic: ctx.topics.ecuState(ecu.id),
    proxyAvailability: ctx.topics.proxyStatus,
    uploadAvailability: ctx.topics.ecuAvailability(ecu.id),
  };
  const components: DevicePayload["components"] = {};
  for (const row of ECU_ENTITIES) {
    if (row.forwardingOnly && !ecu.forwarding) continue;
    components[row.key] = component(row, at, row.key, row.name, row.field);
  }
  if (ecu.control && ctx.control) {
    Object.assign(
      components,
      ecuControlComponents(ctx.control, deviceId, ecu.id, at.proxyAvailability),
    );
  }
  return {
    topic: ctx.topics.ecuConfig(ecu.id),
    payload: {
      device: {
        identifiers: [deviceId],
        name: `${ecu.model} ${ecu.id}`,
        manufacturer: "APsystems",
        model: ecu.model,
        serial_number: ecu.id,
      },
      origin: ctx.origin,
      components,
    },
  };
}

/** The decoder says "unknown" for ids it cannot place; the type code still tells users something. */
function inverterModelName(inv: InverterDescription): string {
  return inv.model === "unknown" ? `Inverter type ${inv.typeCode}` : inv.model;
}

export function inverterDiscovery(
  ctx: DiscoveryContext,
  inv: InverterDescription,
): DiscoveryMessage {
  const deviceId = inverterDeviceId(inv.uid);
  // Inverter measurements go unavailable with their ECU's uploads (see entityRow.ts).
  const at: DeviceTopics = {
    deviceId,
    stateTopic: ctx.topics.inverterState(inv.uid),
    proxyAvailability: ctx.topics.proxyStatus,
    uploadAvailability: ctx.topics.ecuAvailability(inv.ecuId),
  };
  const components: DevicePayload["components"] = {};
  for (const row of INVERTER_ENTITIES) {
    if (row.threePhaseOnly && !inv.threePhase) continue;
    components[row.key] = component(row, at, row.key, row.name, row.field);
  }
  for (let n = 1; n <= inv.channelCount; n++) {
    for (const row of CHANNEL_ENTITIES) {
      const key = `ch${n}_${row.key}`;
      const path = `channels[${n - 1}].${row.field}`;
      components[key] = component(row, at, key, `Channel ${n} ${row.name}`, path);
    }
  }
  if (inv.control && ctx.control) {
    Object.assign(
      components,
      inverterControlComponents(ctx.control, deviceId, inv.uid, at.proxyAvailability, inv.control),
    );
  }
  const model = inverterModelName(inv);
  return {
    topic: ctx.topics.inverterConfig(inv.uid),
    payload: {
      device: {
        identifiers: [deviceId],
        name: `${model} ${inv.uid}`,
        manufacturer: "APsystems",
        model,
        serial_number: inv.uid,
        via_device: ecuDeviceId(inv.ecuId),
      },
      origin: ctx.origin,
      components,
    },
  };
}
