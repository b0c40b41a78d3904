/**
 * Coalesces identical concurrent reads: while one call for a key is in flight, later callers
 * share its promise instead of asking the database again. Nothing is cached after it settles,
 * so a caller never sees data older than a read that was already running when it asked.
 */

/** Wrap `fn` so concurrent calls with the same key share one in-flight call. */
export function singleFlight<A extends unknown[], T>(
  fn: (...args: A) => Promise<T>,
  keyOf: (...args: A) => string = () => "",
): (...args: A) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (...args: A) => {
    const key = keyOf(...args);
    const running = inFlight.get(key);
    if (running) return running;
    const call = fn(...args).finally(() => inFlight.delete(key));
    inFlight.set(key, call);
    return call;
  };
}
