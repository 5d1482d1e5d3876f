/**
 * Parsed editor text, remembered per worker. Learners press Check again and again on the same
 * text, and a whole class often submits the same snippet: parsing with positions is the largest
 * single cost of a check (~3 ms of ~7 ms on these machines), while the result depends on nothing
 * but the lab, the limits and the text, all of which are the key. Only successes are kept (an
 * error is cheap to find again and carries the learner's own text). Least recently used goes.
 */
export class ParseMemo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries = 256) {}

  get size(): number {
    return this.entries.size;
  }

  /** `parse()`'s result for this key, computed once while it stays among the recent ones. */
  get(key: readonly unknown[], text: string, parse: () => T): T {
    const k = `${JSON.stringify(key)}\0${text}`;
    const hit = this.entries.get(k);
    if (hit !== undefined) {
      this.entries.delete(k);
      this.entries.set(k, hit);
      return hit;
    }
    const value = parse();
    this.entries.set(k, value);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
