/**
 * Turns device records into MQTT messages: discovery (only when its bytes changed since the
 * last connect), availability and JSON states (every time). Knows nothing about connections:
 * it writes to a `Sink`, which drops messages while the broker is away.
 */
import { createHash } from "node:crypto";
import type { InverterControl } from "../control/service.js";
import type { EcuDevice, InverterDevice } from "../devices/model.js";
import {
  type DiscoveryContext,
  type DiscoveryMessage,
  ecuDiscovery,
  inverterDiscovery,
} from "./discovery.js";
import { stableStringify } from "./stableJson.js";
import type { Topics } from "./topics.js";
import {
  type EmaDiagnostics,
  ecuValues,
  inverterValues,
  isThreePhase,
  type ProxyMode,
} from "./values.js";

export interface Sink {
  publish(topic: string, payload: string, retain: boolean): void;
  /** False when no broker is configured at all: then nothing is built only to be dropped. */
  readonly enabled: boolean;
}

export class Publisher {
  /**
   * A digest of the discovery bytes sent per topic since the last (re)connect or HA restart —
   * not the bytes: an inverter's config is ~6 KB, 3 MB of heap for 500 inverters.
   */
  private readonly sentConfigs = new Map<string, string>();
  /**
   * The builder inputs behind each sent discovery. The builders are pure, so when a device's
   * inputs are unchanged and its config was sent, the bytes would be the same: skip building
   * and serialising its ~20 entities on every upload (the bulk of the bridge's work).
   */
  private readonly sentInputs = new Map<string, string>();

  constructor(
    private readonly sink: Sink,
    private readonly ctx: DiscoveryContext,
    private readonly mode: ProxyMode,
    private readonly zone: string,
  ) {}

  private get topics(): Topics {
    return this.ctx.topics;
  }

  /** Latest forwarder figures; set only in forwarding mode. */
  ema: EmaDiagnostics | undefined;

  /** Inverter control (option inverter_control): its entities and their states. */
  control: Pick<InverterControl, "range" | "inverterView" | "ecuView"> | undefined;

  /** Whether the data directory takes writes now (the ECUs' storage problem sensor). */
  storageOk: () => boolean = () => true;

  /** After a reconnect or an HA restart every config must go out again. */
  forgetSentConfigs(): void {
    this.sentConfigs.clear();
  }

  private publishDiscovery(topic: string, inputs: string, build: () => DiscoveryMessage): void {
    if (this.sentConfigs.has(topic) && this.sentInputs.get(topic) === inputs) return;
    const message = build();
    this.publishConfig(message.topic, message.payload);
    this.sentInputs.set(topic, inputs);
  }

  private publishConfig(topic: string, payload: unknown): void {
    const text = stableStringify(payload);
    const digest = createHash("sha256").update(text).digest("base64");
    if (this.sentConfigs.get(topic) === digest) return;
    this.sink.publish(topic, text, true);
    this.sentConfigs.set(topic, digest);
  }

  /** ECUs known only from contacts (no upload yet) have no model and are not announced. */
  publishEcu(ecu: EcuDevice, inverters: readonly InverterDevice[]): void {
    if (ecu.model === null || !this.sink.enabled) return;
    const description = {
      id: ecu.id,
      model: ecu.model,
      forwarding: this.mode === "forwarding",
      control: this.control !== undefined,
    };
    this.publishDiscovery(
      this.topics.ecuConfig(ecu.id),
      JSON.stringify(Object.values(description)),
      () => ecuDiscovery(this.ctx, description),
    );
    this.sink.publish(this.topics.ecuAvailability(ecu.id), ecu.online ? "online" : "offline", true);
    this.publishEcuState(ecu, inverters);
  }

  publishEcuState(ecu: EcuDevice, inverters: readonly InverterDevice[]): void {
    if (ecu.model === null || !this.sink.enabled) return;
    const values = ecuValues(ecu, inverters, this.mode, this.zone, this.ema, this.storageOk());
    this.sink.publish(this.topics.ecuState(ecu.id), stableStringify(values), true);
  }

  publishInverter(inv: InverterDevice): void {
    if (!this.sink.enabled) return;
    const description = {
      uid: inv.uid,
      ecuId: inv.ecuId,
      model: inv.model,
      typeCode: inv.typeCode,
      channelCount: inv.channels.length,
      threePhase: isThreePhase(inv),
      ...(this.control ? { control: this.controlRange(inv.uid) } : {}),
    };
    this.publishDiscovery(
      this.topics.inverterConfig(inv.uid),
      JSON.stringify(Object.values(description)),
      () => inverterDiscovery(this.ctx, description),
    );
    this.sink.publish(
      this.topics.inverterState(inv.uid),
      stableStringify(inverterValues(inv)),
      true,
    );
  }

  private controlRange(uid: string): { min: number; max: number } {
    const range = this.control?.range(uid);
    return { min: range?.min ?? 0, max: range?.max ?? 0 };
  }

  /** The control states of an ECU and its inverters (retained: HA reads them after a restart). */
  publishControl(ecuId: string, inverters: readonly InverterDevice[]): void {
    const { control } = this;
    const topics = this.ctx.control;
    if (!control || !topics || !this.sink.enabled) return;
    this.sink.publish(topics.ecuState(ecuId), stableStringify(control.ecuView(ecuId)), true);
    for (const inv of inverters) {
      this.sink.publish(
        topics.inverterState(inv.uid),
        stableStringify(control.inverterView(inv.uid)),
        true,
      );
    }
  }

  /** Empty retained payloads make HA delete the device and the broker forget the messages. */
  /** Forgets what was sent for a device, so that its next announcement goes out in full. */
  forgetDevice(configTopic: string): void {
    this.sentConfigs.delete(configTopic);
    this.sentInputs.delete(configTopic);
  }

  removeEcu(ecuId: string): void {
    for (const topic of [
      this.topics.ecuConfig(ecuId),
      this.topics.ecuState(ecuId),
      this.topics.ecuAvailability(ecuId),
    ]) {
      this.sink.publish(topic, "", true);
      this.forgetDevice(topic);
    }
  }

  removeInverter(uid: string): void {
    for (const topic of [this.topics.inverterConfig(uid), this.topics.inverterState(uid)]) {
      this.sink.publish(topic, "", true);
      this.forgetDevice(topic);
    }
  }
}
