/**
 * Every Home Assistant entity the bridge offers, as data (one row per sensor). Discovery code
 * only composes topics, ids and the device block around these rows.
 *
 * Availability design (decided with the lead): at night the ECU stops uploading, and HA should
 * then show 0 W and keep energy totals visible rather than "unavailable". So power and energy
 * rows (and the online/contact rows) depend only on the proxy's own LWT topic (`proxy`), and the
 * bridge publishes 0 W / OFF when an ECU goes quiet. Only raw measurements that have no sensible
 * night value (AC voltage, frequency, temperature, DC voltage/current) also follow the per-ECU
 * upload availability (`upload`), so they turn unavailable instead of showing stale numbers.
 */
import type { ChannelValues, EcuValues, InverterValues } from "./values.js";
import { PROXY_MODES } from "./values.js";

export type SensorDeviceClass =
  | "power"
  | "energy"
  | "voltage"
  | "current"
  | "frequency"
  | "temperature"
  | "timestamp"
  | "enum";
export type BinarySensorDeviceClass = "connectivity" | "problem";
export type StateClass = "measurement" | "total" | "total_increasing";
export type Unit = "W" | "kWh" | "V" | "A" | "Hz" | "°C";
export type AvailabilityScope = "proxy" | "upload";

interface RowCommon<F extends string> {
  /** Stable component key and unique_id suffix; never change it (HA history hangs on it). */
  key: string;
  name: string;
  /** Field of the device's JSON state message. */
  field: F;
  availability: AvailabilityScope;
  entity_category?: "diagnostic";
  enabled_by_default?: false;
  /** Announced only in forwarding mode (EMA diagnostics). */
  forwardingOnly?: true;
  /** Announced only for 3-phase inverters. */
  threePhaseOnly?: true;
}

/** A numeric class: its unit and state class must be a pair HA accepts (checked by tsc). */
interface NumericClass<D extends SensorDeviceClass, U extends Unit, S extends StateClass> {
  device_class: D;
  unit: U;
  state_class?: S;
  precision?: number;
  options?: never;
}

/**
 * Device class, unit and state class together, as HA's DEVICE_CLASS_UNITS and
 * DEVICE_CLASS_STATE_CLASSES allow them (addon_conventions §6): a power sensor in kWh or an
 * energy sensor with `measurement` does not compile.
 */
type SensorClass =
  | NumericClass<"power", "W", "measurement">
  | NumericClass<"energy", "kWh", "total" | "total_increasing">
  | NumericClass<"voltage", "V", "measurement">
  | NumericClass<"current", "A", "measurement">
  | NumericClass<"frequency", "Hz", "measurement">
  | NumericClass<"temperature", "°C", "measurement">
  | {
      device_class: "timestamp";
      unit?: never;
      state_class?: never;
      precision?: never;
      options?: never;
    }
  | {
      device_class: "enum";
      /** Allowed values of the enum. */
      options: readonly string[];
      unit?: never;
      state_class?: never;
      precision?: never;
    }
  | {
      device_class?: never;
      unit?: Unit;
      state_class?: StateClass;
      precision?: number;
      options?: never;
    };

export type SensorRow<F extends string> = RowCommon<F> & { component: "sensor" } & SensorClass;

export interface BinarySensorRow<F extends string> extends RowCommon<F> {
  component: "binary_sensor";
  device_class?: BinarySensorDeviceClass;
}

export type EntityRow<F extends string> = SensorRow<F> | BinarySensorRow<F>;

type InverterField = Exclude<keyof InverterValues, "channels">;

export const ECU_ENTITIES: readonly EntityRow<keyof EcuValues>[] = [
  {
    key: "power",
    name: "Power",
    component: "sensor",
    field: "power",
    device_class: "power",
    state_class: "measurement",
    unit: "W",
    precision: 0,
    availability: "proxy",
  },
  {
    key: "lifetime_energy",
    name: "Lifetime energy",
    component: "sensor",
    field: "lifetime_energy",
    device_class: "energy",
    state_class: "total_increasing",
    unit: "kWh",
    precision: 1,
    availability: "proxy",
  },
  {
    key: "energy_today",
    name: "Energy today",
    component: "sensor",
    field: "energy_today",
    device_class: "energy",
    state_class: "total_increasing",
    unit: "kWh",
    precision: 3,
    availability: "proxy",
  },
  {
    key: "max_power_today",
    name: "Max power today",
    component: "sensor",
    field: "max_power_today",
    device_class: "power",
    state_class: "measurement",
    unit: "W",
    precision: 0,
    availability: "proxy",
  },
  {
    key: "max_power",
    name: "Max power",
    component: "sensor",
    field: "max_power",
    device_class: "power",
    state_class: "measurement",
    unit: "W",
    precision: 0,
    entity_category: "diagnostic",
    availability: "proxy",
  },
  {
    key: "inverters_online",
    name: "Inverters online",
    component: "sensor",
    field: "inverters_online",
    state_class: "measurement",
    precision: 0,
    availability: "proxy",
  },
  {
    key: "inverters_known",
    name: "Inverters known",
    component: "sensor",
    field: "inverters_known",
    state_class: "measurement",
    precision: 0,
    entity_category: "diagnostic",
    availability: "proxy",
  },
  {
    key: "inverters_reporting",
    name: "Inverters reporting",
    component: "sensor",
    field: "inverters_reporting",
    state_class: "measurement",
    precision: 0,
    availability: "proxy",
  },
  {
    key: "last_upload",
    name: "Last upload",
    component: "sensor",
    field: "last_upload",
    device_class: "timestamp",
    availability: "proxy",
  },
  {
    key: "last_contact",
    name: "Last contact",
    component: "sensor",
    field: "last_contact",
    device_class: "timestamp",
    entity_category: "diagnostic",
    availability: "proxy",
  },
  {
    key: "proxy_mode",
    name: "Proxy mode",
    component: "sensor",
    field: "proxy_mode",
    device_class: "enum",
    options: PROXY_MODES,
    entity_category: "diagnostic",
    availability: "proxy",
  },
  {
    key: "ema_reachable",
    name: "EMA reachable",
    component: "binary_sensor",
    field: "ema_reachable",
    device_class: "connectivity",
    entity_category: "diagnostic",
    availability: "proxy",
    forwardingOnly: true,
  },
  {
    key: "answers_from_ema",
    name: "Answers from EMA",
    component: "sensor",
    field: "answers_from_ema",
    state_class: "total_increasing",
    precision: 0,
    entity_category: "diagnostic",
    availability: "proxy",
    forwardingOnly: true,
  },
  {
    key: "answers_from_proxy",
    name: "Answers from proxy",
    component: "sensor",
    field: "answers_from_proxy",
    state_class: "total_increasing",
    precision: 0,
    entity_category: "diagnostic",
    availability: "proxy",
    forwardingOnly: true,
  },
];

export const INVERTER_ENTITIES: readonly EntityRow<InverterField>[] = [
  {
    key: "online",
    name: "Online",
    component: "binary_sensor",
    field: "online",
    device_class: "connectivity",
    entity_category: "diagnostic",
    availability: "proxy",
  },
  {
    key: "power",
    name: "Power",
    component: "sensor",
    field: "power",
    device_class: "power",
    state_class: "measurement",
    unit: "W",
    precision: 0,
    availability: "proxy",
  },
  {
    key: "energy_today",
    name: "Energy today",
    component: "sensor",
    field: "energy_today",
    device_class: "energy",
    state_class: "total_increasing",
    unit: "kWh",
    precision: 3,
    availability: "proxy",
  },
  {
    key: "lifetime_energy",
    name: "Lifetime energy",
    component: "sensor",
    field: "lifetime_energy",
    device_class: "energy",
    state_class: "total_increasing",
    unit: "kWh",
    precision: 3,
    availability: "proxy",
  },
  {
    key: "missing",
    name: "Missing",
    component: "binary_sensor",
    field: "missing",
    device_class: "problem",
    availability: "proxy",
  },
  {
    key: "weak",
    name: "Low output",
    component: "binary_sensor",
    field: "weak",
    device_class: "problem",
    availability: "proxy",
  },
  {
    key: "ac_voltage",
    name: "AC voltage",
    component: "sensor",
    field: "ac_voltage",
    device_class: "voltage",
    state_class: "measurement",
    unit: "V",
    precision: 0,
    entity_category: "diagnostic",
    availability: "upload",
  },
  {
    key: "ac_voltage_l2",
    name: "AC voltage L2",
    component: "sensor",
    field: "ac_voltage_l2",
    device_class: "voltage",
    state_class: "measurement",
    unit: "V",
    precision: 0,
    entity_category: "diagnostic",
    availability: "upload",
    threePhaseOnly: true,
  },
  {
    key: "ac_voltage_l3",
    name: "AC voltage L3",
    component: "sensor",
    field: "ac_voltage_l3",
    device_class: "voltage",
    state_class: "measurement",
    unit: "V",
    precision: 0,
    entity_category: "diagnostic",
    availability: "upload",
    threePhaseOnly: true,
  },
  {
    key: "frequency",
    name: "Frequency",
    component: "sensor",
    field: "frequency",
    device_class: "frequency",
    state_class: "measurement",
    unit: "Hz",
    precision: 1,
    entity_category: "diagnostic",
    availability: "upload",
  },
  {
    key: "temperature",
    name: "Temperature",
    component: "sensor",
    field: "temperature",
    device_class: "temperature",
    state_class: "measurement",
    unit: "°C",
    precision: 0,
    entity_category: "diagnostic",
    availability: "upload",
  },
];

/**
 * Rows repeated once per DC input; key and name get the channel number (`ch1_power`,
 * "Channel 1 power").
 */
export const CHANNEL_ENTITIES: readonly EntityRow<keyof ChannelValues>[] = [
  {
    key: "power",
    name: "power",
    component: "sensor",
    field: "power",
    device_class: "power",
    state_class: "measurement",
    unit: "W",
    precision: 0,
    availability: "proxy",
  },
  {
    key: "energy_today",
    name: "energy today",
    component: "sensor",
    field: "energy_today",
    device_class: "energy",
    state_class: "total_increasing",
    unit: "kWh",
    precision: 3,
    availability: "proxy",
  },
  {
    key: "lifetime_energy",
    name: "lifetime energy",
    component: "sensor",
    field: "lifetime_energy",
    device_class: "energy",
    state_class: "total_increasing",
    unit: "kWh",
    precision: 3,
    availability: "proxy",
  },
  {
    key: "weak",
    name: "low output",
    component: "binary_sensor",
    field: "weak",
    device_class: "problem",
    availability: "proxy",
  },
  {
    key: "dc_voltage",
    name: "DC voltage",
    component: "sensor",
    field: "dc_voltage",
    device_class: "voltage",
    state_class: "measurement",
    unit: "V",
    precision: 1,
    entity_category: "diagnostic",
    enabled_by_default: false,
    availability: "upload",
  },
  {
    key: "dc_current",
    name: "DC current",
    component: "sensor",
    field: "dc_current",
    device_class: "current",
    state_class: "measurement",
    unit: "A",
    precision: 1,
    entity_category: "diagnostic",
    enabled_by_default: false,
    availability: "upload",
  },
];
