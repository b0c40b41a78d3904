/**
 * What the circuit breaker counts, from PostgreSQL so every process sees the same numbers: each
 * is one indexed count of events at or after `since`.
 */
import { type Database, one } from "./db.js";

/** Decided by these, a rejection is not an operator's (prohibited by policy, a deadline passing). */
const NOT_OPERATORS = ["policy", "timeout", "objection-window"];

/** Counts of breaker events since a moment. */
export interface BreakerCounts {
  /** Requests operators rejected. */
  rejections(since: Date): Promise<number>;
  /** Tasks sources reported failed (counted when they entered `failed`). */
  failedTasks(since: Date): Promise<number>;
  /** Callback and command deliveries that were dead-lettered. */
  deadLetters(since: Date): Promise<number>;
}

/** Build the counts on the database. */
export function createBreakerCounts(db: Database): BreakerCounts {
  const count = async (sql: string, params: unknown[]) => Number((await one<{ n: string }>(db.pool, sql, params)).n);
  return {
    rejections: (since) =>
      count(
        "SELECT count(*) AS n FROM approvals WHERE status = 'rejected' AND decided_at >= $1 AND decided_by <> ALL($2::text[])",
        [since, NOT_OPERATORS],
      ),
    failedTasks: (since) =>
      count("SELECT count(*) AS n FROM tasks WHERE state = 'failed' AND state_since >= $1", [since]),
    deadLetters: (since) =>
      count("SELECT count(*) AS n FROM deliveries WHERE status = 'dead' AND updated_at >= $1", [since]),
  };
}
