/**
 * Recurring chat-ops work as BullMQ job schedulers on one queue: `digest:<operator>` (their
 * `digest` cron in their IANA timezone) and `health:<check>` (every `everySeconds`). At start
 * {@link OpsQueue.sync} makes Redis match the config: schedulers no longer configured are
 * removed, the rest are upserted (so a changed cron or timezone takes effect).
 */
import { failPermanentErrorsAtOnce } from "./job-errors.js";
import { RESUMABLE_WORKER_OPTIONS } from "./worker-options.js";
import { Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";

/** The queue name (under the configured prefix). */
export const OPS_QUEUE = "ops";

/** What a scheduled job asks for. */
export type OpsJobData = { kind: "digest"; operator: string } | { kind: "health"; check: string };

/** A digest schedule: cron in the operator's timezone. */
export interface DigestSchedule {
  operator: string;
  cron: string;
  timezone: string;
}

/** Scheduler id of an operator's digest. */
export const digestSchedulerId = (operator: string) => `digest:${operator}`;
/** Scheduler id of a health check. */
export const healthSchedulerId = (check: string) => `health:${check}`;

const TEMPLATE_OPTS = {
  removeOnComplete: true,
  removeOnFail: 100,
  attempts: 3,
  backoff: { type: "exponential" as const, delay: 5_000 },
};

/** Create the ops queue and its scheduler sync. */
export function createOpsQueue(connection: Redis, prefix: string) {
  const queue = new Queue<OpsJobData>(OPS_QUEUE, { connection, prefix });
  return {
    queue,
    /** Make the schedulers in Redis exactly the configured ones; returns what changed. */
    async sync(
      digests: readonly DigestSchedule[],
      checks: ReadonlyArray<{ name: string; everySeconds: number }>,
    ): Promise<{ upserted: string[]; removed: string[] }> {
      const wanted = new Map<string, () => Promise<unknown>>();
      for (const d of digests) {
        wanted.set(digestSchedulerId(d.operator), () =>
          queue.upsertJobScheduler(
            digestSchedulerId(d.operator),
            { pattern: d.cron, tz: d.timezone },
            { name: "digest", data: { kind: "digest", operator: d.operator }, opts: TEMPLATE_OPTS },
          ),
        );
      }
      for (const c of checks) {
        wanted.set(healthSchedulerId(c.name), () =>
          queue.upsertJobScheduler(
            healthSchedulerId(c.name),
            { every: c.everySeconds * 1000 },
            { name: "health", data: { kind: "health", check: c.name }, opts: { ...TEMPLATE_OPTS, attempts: 1 } },
          ),
        );
      }
      const removed: string[] = [];
      for (const scheduler of await queue.getJobSchedulers()) {
        const id = scheduler.key;
        if (!wanted.has(id)) {
          await queue.removeJobScheduler(id);
          removed.push(id);
        }
      }
      for (const upsert of wanted.values()) await upsert();
      return { upserted: [...wanted.keys()], removed };
    },
    /** Start (or change) one operator's digest schedule, e.g. `digest on` in chat. */
    async scheduleDigest(d: DigestSchedule): Promise<void> {
      await queue.upsertJobScheduler(
        digestSchedulerId(d.operator),
        { pattern: d.cron, tz: d.timezone },
        { name: "digest", data: { kind: "digest", operator: d.operator }, opts: TEMPLATE_OPTS },
      );
    },
    /** Stop one operator's digest schedule (`digest off`, `unpair`). */
    async unscheduleDigest(operator: string): Promise<void> {
      await queue.removeJobScheduler(digestSchedulerId(operator));
    },
  };
}

/** The ops queue's interface. */
export type OpsQueue = ReturnType<typeof createOpsQueue>;

/**
 * The worker running digests and health checks. A permanent error fails that run at once (the
 * next scheduled run still happens); other errors retry with backoff.
 */
export function createOpsWorker(
  connection: Redis,
  prefix: string,
  handlers: { digest(operator: string): Promise<unknown>; health(check: string): Promise<unknown> },
  concurrency = 5,
) {
  return new Worker<OpsJobData>(
    OPS_QUEUE,
    failPermanentErrorsAtOnce(async (job: Job<OpsJobData>) =>
      job.data.kind === "digest" ? handlers.digest(job.data.operator) : handlers.health(job.data.check),
    ),
    { connection, prefix, concurrency, ...RESUMABLE_WORKER_OPTIONS },
  );
}
