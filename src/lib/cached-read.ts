/**
 * A value read from the database on almost every request (the pause switch, who is away), kept
 * for a short while: callers while it is fresh share it, callers at a lapse share one read, and
 * a write made in this process applies at once. A write elsewhere shows after at most `cacheMs`.
 */

/** The cache {@link createCachedRead} builds. */
export interface CachedRead<T> {
  /** The cached value while fresh, else the result of one read shared by everyone asking now. */
  get(): Promise<T>;
  /**
   * This process wrote: `value` (what is stored now) is cached at once; without one, the next
   * `get` reads afresh. Either way a read already on its way cannot cache its older result.
   */
  wrote(value?: T): void;
}

/** Cache `read` for `cacheMs`; see the module comment. */
export function createCachedRead<T>(read: () => Promise<T>, cacheMs: number): CachedRead<T> {
  let cached: { value: T; until: number } | null = null;
  let reading: Promise<T> | null = null;
  let writes = 0;

  function readShared(): Promise<T> {
    const seen = writes;
    const started = read()
      .then((value) => {
        if (seen !== writes) return cached ? cached.value : value; // a write landed meanwhile
        cached = { value, until: Date.now() + cacheMs };
        return value;
      })
      .finally(() => {
        if (reading === started) reading = null;
      });
    reading = started;
    return started;
  }

  return {
    get() {
      if (cached && cached.until > Date.now()) return Promise.resolve(cached.value);
      return reading ?? readShared();
    },
    wrote(value?: T) {
      writes++;
      reading = null;
      cached = value === undefined ? null : { value, until: Date.now() + cacheMs };
    },
  };
}
