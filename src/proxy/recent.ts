/**
 * The `limit` most recently seen keys: seeing one more forgets the one seen longest ago, so the
 * memory stays bounded whatever a peer sends. Used for "log this once" sets fed from the
 * network (refused ECU ids, unknown message kinds).
 */
export class RecentSet<T> {
  /** Insertion-ordered: the first key is the one seen longest ago. */
  private readonly keys = new Set<T>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.keys.size;
  }

  /** Notes `key` as seen now; true when it was not remembered (new, or forgotten since). */
  see(key: T): boolean {
    const known = this.keys.delete(key);
    this.keys.add(key);
    if (!known && this.keys.size > this.limit) {
      this.keys.delete(this.keys.values().next().value as T);
    }
    return !known;
  }
}
