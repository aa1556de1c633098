/** Every MQTT topic and id the bridge uses, in one place so tests and discovery agree. */

export interface Topics {
  /** The proxy's LWT topic: `online` / `offline`, retained. */
  proxyStatus: string;
  /** Per-ECU upload availability: `offline` when no upload arrived for offline_after_minutes. */
  ecuAvailability(ecuId: string): string;
  ecuState(ecuId: string): string;
  inverterState(uid: string): string;
  ecuConfig(ecuId: string): string;
  inverterConfig(uid: string): string;
}

/** Device ids double as discovery object ids, so they use only `[a-zA-Z0-9_-]`. */
export const ecuDeviceId = (ecuId: string): string => `apsystems_ecu_${ecuId}`;
export const inverterDeviceId = (uid: string): string => `apsystems_inverter_${uid}`;

export function makeTopics(baseTopic: string, discoveryPrefix: string): Topics {
  return {
    proxyStatus: `${baseTopic}/status`,
    ecuAvailability: (id) => `${baseTopic}/ecu/${id}/availability`,
    ecuState: (id) => `${baseTopic}/ecu/${id}/state`,
    inverterState: (uid) => `${baseTopic}/inverter/${uid}/state`,
    ecuConfig: (id) => `${discoveryPrefix}/device/${ecuDeviceId(id)}/config`,
    inverterConfig: (uid) => `${discoveryPrefix}/device/${inverterDeviceId(uid)}/config`,
  };
}
