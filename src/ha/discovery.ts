/**
 * Pure builder of device-based discovery messages (`<prefix>/device/<object_id>/config`,
 * Home Assistant 2024.11+; addon_conventions §5): one per ECU, one per inverter.
 */
import {
  CHANNEL_ENTITIES,
  ECU_ENTITIES,
  type EntityRow,
  INVERTER_ENTITIES,
  type SensorDeviceClass,
  type StateClass,
  type Unit,
} from "./entities.js";
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
  device_class?: SensorDeviceClass | "connectivity";
  state_class?: StateClass;
  unit_of_measurement?: Unit;
  suggested_display_precision?: number;
  entity_category?: "diagnostic";
  enabled_by_default?: false;
  options?: string[];
  payload_on?: "ON";
  payload_off?: "OFF";
}

export interface DevicePayload {
  device: DeviceBlock;
  origin: Origin;
  components: Record<string, ComponentPayload>;
}

export interface DiscoveryMessage {
  topic: string;
  payload: DevicePayload;
}

export interface DiscoveryContext {
  topics: Topics;
  origin: Origin;
}

export interface EcuDescription {
  id: string;
  model: string;
}

export interface InverterDescription {
  uid: string;
  ecuId: string;
  model: string;
  typeCode: string;
  channelCount: number;
}

function component(
  row: EntityRow<string>,
  key: string,
  name: string,
  uniquePrefix: string,
  stateTopic: string,
  valuePath: string,
  availability: { proxy: string; upload: string },
): ComponentPayload {
  const payload: ComponentPayload = {
    platform: row.component,
    unique_id: `${uniquePrefix}_${key}`,
    name,
    state_topic: stateTopic,
    value_template: `{{ value_json.${valuePath} }}`,
    availability:
      row.availability === "upload"
        ? [{ topic: availability.proxy }, { topic: availability.upload }]
        : [{ topic: availability.proxy }],
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
  return payload;
}

export function ecuDiscovery(ctx: DiscoveryContext, ecu: EcuDescription): DiscoveryMessage {
  const deviceId = ecuDeviceId(ecu.id);
  const stateTopic = ctx.topics.ecuState(ecu.id);
  const availability = {
    proxy: ctx.topics.proxyStatus,
    upload: ctx.topics.ecuAvailability(ecu.id),
  };
  const components: Record<string, ComponentPayload> = {};
  for (const row of ECU_ENTITIES) {
    components[row.key] = component(
      row,
      row.key,
      row.name,
      deviceId,
      stateTopic,
      row.field,
      availability,
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
  const stateTopic = ctx.topics.inverterState(inv.uid);
  const availability = {
    proxy: ctx.topics.proxyStatus,
    upload: ctx.topics.ecuAvailability(inv.ecuId),
  };
  const components: Record<string, ComponentPayload> = {};
  for (const row of INVERTER_ENTITIES) {
    components[row.key] = component(
      row,
      row.key,
      row.name,
      deviceId,
      stateTopic,
      row.field,
      availability,
    );
  }
  for (let n = 1; n <= inv.channelCount; n++) {
    for (const row of CHANNEL_ENTITIES) {
      const key = `ch${n}_${row.key}`;
      components[key] = component(
        row,
        key,
        `Channel ${n} ${row.name}`,
        deviceId,
        stateTopic,
        `channels[${n - 1}].${row.field}`,
        availability,
      );
    }
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
