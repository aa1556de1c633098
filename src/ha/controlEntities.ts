/**
 * The entities of inverter control (issue 19, option inverter_control), as data: one switch and
 * one number per inverter, one switch per ECU. Kept apart from the sensor tables: they exist only
 * with the option, read their state from the device's control topic (not its upload state) and
 * take commands. The state they show is the one the ECU confirmed; what became of the newest
 * change (queued, pending, confirmed, refused, not delivered, rejected) is in the attributes.
 */
import type { ControlView, EcuControlView } from "../control/view.js";

interface ControlRowCommon<F extends string> {
  /** Stable component key and unique_id suffix; never change it (HA history hangs on it). */
  key: string;
  name: string;
  /** Field of the control state message that holds the confirmed value. */
  field: F;
  /** The last part of the command topic, and the prefix of the status attributes. */
  setting: string;
  icon: string;
}

export interface SwitchRow<F extends string> extends ControlRowCommon<F> {
  component: "switch";
}

export interface NumberRow<F extends string> extends ControlRowCommon<F> {
  component: "number";
  device_class: "power";
  unit: "W";
  step: 1;
}

export type ControlRow<F extends string> = SwitchRow<F> | NumberRow<F>;

export const INVERTER_CONTROL_ENTITIES: readonly ControlRow<keyof ControlView>[] = [
  {
    key: "control_on",
    name: "Inverter on",
    component: "switch",
    field: "on",
    setting: "on",
    icon: "mdi:solar-power",
  },
  {
    key: "control_power_limit",
    name: "Power limit",
    component: "number",
    field: "power_limit",
    setting: "power_limit",
    device_class: "power",
    unit: "W",
    step: 1,
    icon: "mdi:speedometer",
  },
];

export const ECU_CONTROL_ENTITIES: readonly ControlRow<keyof EcuControlView>[] = [
  {
    key: "control_inverters_on",
    name: "All inverters on",
    component: "switch",
    field: "inverters_on",
    setting: "inverters_on",
    icon: "mdi:solar-power-variant",
  },
];
