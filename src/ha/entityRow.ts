/**
 * The shape of one Home Assistant entity row (ecuEntities.ts, inverterEntities.ts): which
 * device class, unit and state class may go together, and which availability topic it follows.
 *
 * Availability design (decided with the lead): at night the ECU stops uploading, and HA should
 * then show 0 W and keep energy totals visible rather than "unavailable". So power and energy
 * rows (and the online/contact rows) depend only on the proxy's own LWT topic (`proxy`), and the
 * bridge publishes 0 W / OFF when an ECU goes quiet. Only raw measurements that have no sensible
 * night value (AC voltage, frequency, temperature, DC voltage/current) also follow the per-ECU
 * upload availability (`upload`), so they turn unavailable instead of showing stale numbers.
 */

export type SensorDeviceClass =
  | "power"
  | "energy"
  | "voltage"
  | "current"
  | "frequency"
  | "temperature"
  | "timestamp"
  | "duration"
  | "enum";
export type BinarySensorDeviceClass = "connectivity" | "problem";
export type StateClass = "measurement" | "total" | "total_increasing";
export type Unit = "W" | "kWh" | "V" | "A" | "Hz" | "°C" | "min";
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
  /** Fields of the same state message that HA shows as this entity's attributes. */
  attributes?: readonly F[];
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
  | NumericClass<"duration", "min", "measurement" | "total" | "total_increasing">
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
