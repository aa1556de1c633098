/**
 * Replaces real ECU and inverter ids by fake ones before captures leave the machine. A fake id
 * keeps the real id's length (so every length field stays right) and its model prefix (so the
 * model stays recognisable: 2160… ECU-R, 408… YC600, 806… QS1), and each real id always gets
 * the same fake, so a reader can still tell which frames came from the same device.
 */

/** ECU ids: 4 prefix digits name the model (2160 ECU-R, 2162 ECU-R Pro, 215x ECU-C, …). */
const ECU_PREFIX_DIGITS = 4;
/** Inverter uids: up to 3 prefix digits name the family (403/404 YC500, 40 YC600, 80 QS1, …). */
const INVERTER_PREFIX_DIGITS = 3;

export class IdMasker {
  private readonly fakes = new Map<string, string>();
  private readonly pattern: RegExp | undefined;

  /** All ids must be known up front, so that no fake can equal a real id. */
  constructor(ecuIds: Iterable<string>, inverterIds: Iterable<string>) {
    const ids = new Map<string, number>();
    for (const id of ecuIds) ids.set(id, ECU_PREFIX_DIGITS);
    for (const id of inverterIds) if (!ids.has(id)) ids.set(id, INVERTER_PREFIX_DIGITS);
    const real = new Set(ids.keys());
    const issued = new Set<string>();
    const next = new Map<string, number>();
    for (const [id, prefixDigits] of [...ids].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (!/^[0-9]{6,}$/.test(id)) continue;
      const prefix = id.slice(0, prefixDigits);
      const width = id.length - prefix.length;
      let n = next.get(prefix) ?? 1;
      let fake: string;
      do {
        fake = prefix + String(n++).padStart(width, "0");
      } while (real.has(fake) || issued.has(fake));
      next.set(prefix, n);
      issued.add(fake);
      this.fakes.set(id, fake);
    }
    // Longest first, so an id that contains another is replaced whole.
    const sorted = [...this.fakes.keys()].sort((a, b) => b.length - a.length);
    this.pattern = sorted.length > 0 ? new RegExp(sorted.join("|"), "g") : undefined;
  }

  get size(): number {
    return this.fakes.size;
  }

  fakeFor(id: string): string {
    return this.fakes.get(id) ?? id;
  }

  /** Every occurrence of a known id replaced by its fake (same length, same prefix). */
  mask(text: string): string {
    if (!this.pattern) return text;
    return text.replace(this.pattern, (id) => this.fakes.get(id) ?? id);
  }

  maskBuffer(data: Buffer): Buffer {
    // latin1 maps bytes 1:1 to characters, so binary frames survive the round trip.
    return Buffer.from(this.mask(data.toString("latin1")), "latin1");
  }
}
