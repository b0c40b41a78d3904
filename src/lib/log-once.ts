/**
 * During an outage the same failure repeats for every reconnect attempt, queue and request.
 * One line per kind of failure and minute says everything; the rest are counted, not printed.
 */

/** A logger that repeats a failure of the same kind at most once per `everyMs`. */
export interface OnceLogger {
  /** Log `message` for `kind` now, unless it was logged less than `everyMs` ago (then count it). */
  warn(kind: string, fields: Record<string, unknown>, message: string): void;
}

/** Build a {@link OnceLogger} over `logger`. */
export function createOnceLogger(
  logger: { warn(o: object, m?: string): void },
  everyMs = 60_000,
  now: () => number = Date.now,
): OnceLogger {
  const last = new Map<string, { at: number; suppressed: number }>();
  return {
    warn(kind, fields, message) {
      const seen = last.get(kind);
      const t = now();
      if (seen && t - seen.at < everyMs) {
        seen.suppressed++;
        return;
      }
      logger.warn({ ...fields, ...(seen?.suppressed ? { repeatedSinceLastLine: seen.suppressed } : {}) }, message);
      last.set(kind, { at: t, suppressed: 0 });
    },
  };
}
