/**
 * Bound a wait: a dependency that never answers (a PostgreSQL query stuck behind a lock, Redis
 * mid-failover) must not hold up whoever asked, such as a metrics scrape.
 */

/** Resolve like `promise`, or reject naming `ms` when it has not settled by then. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
