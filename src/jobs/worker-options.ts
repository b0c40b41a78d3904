/** BullMQ worker options every signoff queue shares. */
import type { WorkerOptions } from "bullmq";

/**
 * Crash recovery for workers whose jobs must resume soon after signoff is killed (kill -9, OOM,
 * power loss). A killed worker's active jobs come back only when the stalled check finds their
 * lock expired, and it takes two passes: one marks the active jobs, a later one
 * moves those still unlocked back to waiting. Passes land one or two intervals apart (a pass
 * often finds the previous pass's "recently checked" marker not yet expired and does nothing), and
 * the lock lapses at most lockDuration after the kill; with lockDuration = 2 × stalledInterval it
 * is gone by the second pass, so jobs resume 2–3 intervals after the new worker starts. BullMQ's
 * defaults (30 s / 30 s) made that 60–97 s. With 6 s / 3 s it is 6–9 s.
 * The price is Redis traffic, tiny either way: a worker renews its locks in one batched call about
 * every 3 s while it has jobs, and runs one stalled-check script every 3 s. A job is also taken
 * for stalled if the event loop is blocked for 3–6 s; it then runs twice, which every worker here
 * tolerates (deliveries carry a stable id, decisions are guarded in PostgreSQL).
 * maxStalledCount 3 lets a job survive a few crashes in a row (a bad deploy, a crash loop being
 * fixed) instead of failing on the second, while a job that kills the process every time still
 * ends up failed rather than looping forever.
 */
export const RESUMABLE_WORKER_OPTIONS = {
  lockDuration: 6_000,
  stalledInterval: 3_000,
  maxStalledCount: 3,
} as const satisfies Pick<WorkerOptions, "lockDuration" | "stalledInterval" | "maxStalledCount">;
