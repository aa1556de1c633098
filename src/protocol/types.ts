/**
 * Typed records the pure protocol core produces. The JSON that `ecu-proxy decode` prints is
 * exactly these objects, so field names here are a public interface (see DOCS.md).
 */

export interface Channel {
  /** DC power, W (block offset 15, W × 100). */
  powerW: number;
  /** DC voltage, V (block offset 1, V × 10). */
  dcVoltageV: number;
  /** DC current, A (block offset 6, A × 10 — §3.2; older integrations read other digits). */
  dcCurrentA: number;
  /** Energy produced in this polling round, Wh (block offset 9, kWh × 1e6). */
  energyWh: number;
}

export type InverterModel =
  | "YC250"
  | "YC500"
  | "YC600"
  | "YC1000"
  | "QS1"
  | "DS3"
  | "QT2"
  | "optimizer"
  | "unknown";

export interface Inverter {
  uid: string;
  /** EMA type code at record offset 12; it selects the record layout (protocol.md §3.3). */
  typeCode: string;
  /** Model family from the uid prefix (falls back to the type code's product). */
  model: InverterModel;
  frequencyHz?: number;
  temperatureC?: number;
  /** Grid voltage, V; for 3-phase inverters (type 04) phase 1 — all phases in `phaseVoltagesV`. */
  acVoltageV?: number;
  phaseVoltagesV?: number[];
  channels: Channel[];
  /** Active (AC) power field as sent; its scale differs by type and is unconfirmed (§13 U5). */
  activePowerRaw?: string;
  /**
   * Set when the record's type code is unknown and it was read with the layout of this known
   * type code instead (layouts/inference.ts): its id and length fit, every value is in bounds.
   */
  layoutInferred?: string;
  /** The record as received, for records whose layout is unknown or malformed. */
  raw?: string;
  /** Why a record was kept raw (unknown type code, wrong length, bad digits). */
  problem?: string;
}

/** How an upload header writes its power field: plain W, or W × 100 (protocol.md §3.1). */
export type PowerEncoding = "W" | "Wx100";

export interface EcuSection {
  id: string;
  /** ECU model from the id prefix (protocol.md §3.3). */
  model: string;
  /** `YYYY-MM-DDTHH:mm:ss`, the ECU's local time as sent (no zone). */
  timestamp: string;
  /**
   * System power, W; null when the header's power field is implausible however it is read
   * (the upload's `notes` say why). Never a guess: see `powerEncoding`.
   */
  powerW: number | null;
  lifetimeEnergyKWh: number;
  invertersOnline: number;
  /** Header energy-of-this-round field (kWh × 1e6); zero on the 2024 ECU-R capture. */
  roundEnergyKWh: number;
  /**
   * How the header power field was read (§3.1): plain W or W × 100 — confirmed by the channel
   * sum when every inverter record decodes, else the ECU family's usual encoding within what the
   * inverters can deliver (noted in `notes`); null when neither reading is plausible.
   */
  powerEncoding: PowerEncoding | null;
  /** "Time zone was changed" flag at offset 77. */
  timezoneChanged: boolean;
}

export interface UploadMessage {
  type: "upload";
  /** Protocol version digits, "18". */
  version: string;
  /** True for inverter-side fill-up records (`00000001` command field, §6). */
  fillUp: boolean;
  ecu: EcuSection;
  inverters: Inverter[];
  /** Observations worth a debug line, e.g. header power disagreeing with the channel sum. */
  notes: string[];
}

/** `APS13AAA22<ecu id>` or `{"EID":"<ecu id>",}` — the nightly "which records do you have?" (§5). */
export interface SyncRequestMessage {
  type: "sync_request";
  ecuId: string;
  form: "aps13" | "json";
}

/** 8997 `A101` poll: "any command for me?" (§7). */
export interface ControlPollMessage {
  type: "control_poll";
  ecuId: string;
}

/** 8997 `APS13…A123AAA0` at 01:00: "which inverter statuses do you have?" (§7). */
export interface StatusQueryMessage {
  type: "status_query";
  ecuId: string;
}

export interface InverterStatus {
  uid: string;
  typeCode: string;
  /** Fault bits as sent; their meaning is not public. */
  bits: string;
}

/** `APS15…A123AAA1`: inverter abnormal-status report (§7). */
export interface StatusReportMessage {
  type: "status_report";
  ecuId: string;
  count: number;
  timestamp: string;
  statuses: InverterStatus[];
}

/**
 * 8997 `APS13…A100AAA0<id>A1nn<timestamp><result>END`: the ECU's acknowledgement of command
 * `A1nn` (controlReports.ts). `timestamp` is the command's own, echoed.
 */
export interface ControlAckMessage {
  type: "control_ack";
  ecuId: string;
  command: string;
  timestamp: string;
  /** `0` done; other digits are failure codes (kept as sent). */
  result: string;
}

export interface MaxPowerEntry {
  uid: string;
  /** The inverter's current limit, W; null when the ECU has not read it (`-1`). */
  limitW: number | null;
  minW: number;
  maxW: number;
}

/** 8997 `APS13…A117AAA0<id>`: the inverters' maximum power and its range (controlReports.ts). */
export interface MaxPowerReportMessage {
  type: "max_power_report";
  ecuId: string;
  count: number;
  entries: MaxPowerEntry[];
  /** Entries whose layout is not the known one, as sent. */
  unparsed: string[];
  raw: string;
}

/** `ECU11…0001 0001…` on 9220: "does firmware file <path> exist?" (§8). */
export interface FirmwareQueryMessage {
  type: "firmware_query";
  path: string;
}

/** A frame that framed correctly but whose meaning is not known (§13); kept raw. */
export interface UnknownMessage {
  type: "unknown";
  /** A short stable name for the kind, used to log each kind once (e.g. `APS16`, `ECU11/0004`). */
  kind: string;
  ecuId?: string;
  /** The frame as latin1 text (lossless for bytes). */
  raw: string;
}

export type Message =
  | UploadMessage
  | SyncRequestMessage
  | ControlPollMessage
  | StatusQueryMessage
  | StatusReportMessage
  | ControlAckMessage
  | MaxPowerReportMessage
  | FirmwareQueryMessage
  | UnknownMessage;

export type MessageType = Message["type"];

export type DecodeErrorCode =
  | "bad_magic"
  | "bad_length"
  | "too_large"
  | "truncated"
  | "bad_timestamp"
  | "bad_number"
  | "bad_ecu_id"
  | "missing_end"
  | "unknown_type";

/** A frame that is malformed; never thrown, always returned. */
export interface DecodeError {
  type: "error";
  code: DecodeErrorCode;
  detail: string;
}

export type DecodeResult = Message | DecodeError;
