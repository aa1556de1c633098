/**
 * What the registry logs about what ECUs send: the doubts an upload's outcome raises (backlog,
 * rounds ahead of the clock, implausible records, a held-back lifetime reading, …) and ECUs
 * refused for max_ecus. Each is rate-limited: a LAN host can send thousands.
 */
import type { Logger } from "../log.js";
import type { UploadMessage } from "../protocol/types.js";
import { ecuTimestampToEpoch } from "../zoneTime.js";
import type { DeviceLimits, UploadOutcome } from "./applyUpload.js";
import { WRONG_CLOCK_S } from "./clock.js";
import { CONFIRM_ROUNDS } from "./lifetime.js";

/** ECU ids refused for max_ecus that are logged by name; later ones are only counted. */
const REFUSED_IDS_LOGGED = 100;
/** One line per ECU and kind of doubt at most this often (a LAN host can send thousands). */
const DOUBT_LOG_INTERVAL_MS = 10 * 60_000;

export class UploadLog {
  private readonly refusedIds = new Set<string>();
  private refusedCount = 0;
  private readonly doubtLoggedAt = new Map<string, number>();

  /** `zone`: IANA zone of the ECUs' clocks, in which round timestamps are read. */
  constructor(
    private readonly log: Logger,
    private readonly limits: DeviceLimits,
    private readonly zone: string,
  ) {}

  /** An ECU not tracked because max_ecus is reached: logged once per id, for the first 100. */
  refused(id: string): void {
    if (this.refusedIds.has(id)) return;
    this.refusedCount += 1;
    if (this.refusedIds.size < REFUSED_IDS_LOGGED) {
      this.refusedIds.add(id);
      this.log.warn(
        { ecu: id, maxEcus: this.limits.maxEcus, refused: this.refusedCount },
        `ECU ${id} not tracked: max_ecus (${this.limits.maxEcus}) reached — answered, not published; raise max_ecus or set allowed_ecu_ids`,
      );
    }
  }

  /**
   * Log lines for what the outcome doubts; each kind at most once per interval and ECU.
   * `lifetimeKWh` is the ECU's lifetime energy after the upload, named when the counter follows
   * a reset or jump.
   */
  report(
    upload: UploadMessage,
    outcome: UploadOutcome,
    now: number,
    lifetimeKWh: number | null | undefined,
  ): void {
    const ecu = outcome.ecuId;
    const ts = upload.ecu.timestamp;
    const doubt = (kind: string, level: "info" | "warn", fields: object, msg: string): void => {
      const key = `${ecu}/${kind}`;
      const last = this.doubtLoggedAt.get(key);
      if (last !== undefined && now - last < DOUBT_LOG_INTERVAL_MS) return;
      if (this.doubtLoggedAt.size > 1000) this.doubtLoggedAt.clear();
      this.doubtLoggedAt.set(key, now);
      this.log[level]({ ecu, timestamp: ts, ...fields }, msg);
    };
    const stampMs = ecuTimestampToEpoch(ts, this.zone);
    const offsetMin = Math.round((stampMs - outcome.correctionS * 1000 - now) / 60_000);
    const learned = outcome.clockLearned;
    if (learned) this.clockLearned(ecu, learned.fromS, learned.toS);
    if (outcome.freshness === "ahead") {
      doubt(
        "ahead",
        "warn",
        { minutesAhead: offsetMin, zone: this.zone },
        `round dated ${offsetMin} min ahead of the clock in ${this.zone}: refused, the ECU keeps it (if every round says this, its clock or zone is wrong: it is learned once 3 rounds agree)`,
      );
    } else if (outcome.freshness === "backlog") {
      doubt(
        "backlog",
        "info",
        { minutesOld: -offsetMin, counted: outcome.count === "counted" },
        `round from ${-offsetMin} min ago (backlog): counted toward energy, not shown as live`,
      );
    }
    if (outcome.powerRefused) {
      doubt(
        "power",
        "warn",
        outcome.powerRefused,
        `ECU power ${outcome.powerRefused.powerW} W is beyond what its inverters can deliver (${outcome.powerRefused.maxW} W): shown as unknown`,
      );
    }
    for (const { uid, reason } of outcome.implausible) {
      doubt(
        `record/${uid}`,
        "warn",
        { inverter: uid },
        `inverter ${uid}: ${reason}; record ignored`,
      );
    }
    for (const { uid, wh, maxWh } of outcome.energyRefused) {
      doubt(
        `energy/${uid}`,
        "warn",
        { inverter: uid, wh, maxWh },
        `inverter ${uid}: round energy ${wh} Wh is more than it can produce in the round (${Math.round(maxWh)} Wh); not counted`,
      );
    }
    if (outcome.overLimit.length > 0) {
      doubt(
        "inverters",
        "warn",
        { notTracked: outcome.overLimit.length, max: this.limits.maxInvertersPerEcu },
        `ECU ${ecu} names more inverters than max_inverters_per_ecu (${this.limits.maxInvertersPerEcu}): ${outcome.overLimit.length} not tracked`,
      );
    }
    if (outcome.count === "too_old") {
      doubt("too_old", "info", {}, "round older than the counting window (2 days): not counted");
    }
    const lifetime = outcome.lifetime;
    if (lifetime && !lifetime.taken) {
      doubt(
        "lifetime",
        "warn",
        { ...lifetime },
        `lifetime energy ${lifetime.heldKWh} kWh does not follow ${lifetime.acceptedKWh} kWh (at most +${lifetime.allowedKWh.toFixed(1)} kWh possible): held back until ${CONFIRM_ROUNDS} rounds in a row confirm it`,
      );
    } else if (lifetime?.change) {
      this.log.warn(
        { ecu, from: lifetime.fromKWh, to: lifetimeKWh },
        lifetime.change === "reset"
          ? `lifetime energy counter restarted (confirmed by ${CONFIRM_ROUNDS} rounds): following it`
          : `lifetime energy counter jumped (confirmed by ${CONFIRM_ROUNDS} rounds): following it`,
      );
    }
    this.log.debug(
      { ecu, timestamp: ts, freshness: outcome.freshness, count: outcome.count },
      "upload applied",
    );
  }

  /** A learned clock offset is rare (three rounds must agree): every change is logged. */
  private clockLearned(ecu: string, fromS: number | null, toS: number | null): void {
    const minutes = toS === null ? null : Math.round(toS / 60);
    const wrong = toS !== null && Math.abs(toS) > WRONG_CLOCK_S;
    const text =
      minutes === null
        ? "unknown"
        : `${Math.abs(minutes)} min ${minutes >= 0 ? "ahead of" : "behind"} the clock`;
    this.log[wrong ? "warn" : "info"](
      { ecu, fromS, offsetS: toS, zone: this.zone },
      wrong
        ? `ECU ${ecu}'s clock runs ${text} in ${this.zone}: its rounds are judged on the corrected time (set its time source or zone, DOCS.md "ECU clock wrong")`
        : `ECU ${ecu}'s clock offset learned: ${text}`,
    );
  }
}
