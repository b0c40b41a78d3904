/**
 * The chat outbox: every card, notice, edit and reply goes through a BullMQ queue so sends
 * survive restarts and retry on network errors. Permanent channel errors (blocked bot, bad
 * request) are not retried; `retryAfterMs` from the platform is honoured.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { ChannelError } from "../domain/channel.js";
import type { OutboxJob } from "../handlers/card-presenter.js";

/** The queue name (under the configured prefix). */
export const OUTBOX_QUEUE = "outbox";

/** Create the outbox queue and its `enqueue`. Refresh jobs are deduplicated per version. */
export function createOutboxQueue(connection: Redis, prefix: string) {
  const queue = new Queue<OutboxJob>(OUTBOX_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 10, backoff: { type: "exponential", delay: 500 }, removeOnComplete: true, removeOnFail: 5000 },
  });
  return {
    queue,
    async enqueue(job: OutboxJob): Promise<void> {
      const jobId = job.op === "refresh" ? `refresh-${job.approvalId}-${job.version}` : undefined;
      await queue.add(job.op, job, jobId ? { jobId } : {});
    },
  };
}

/** The worker that performs outbox jobs with the presenter. */
export function createOutboxWorker(
  connection: Redis,
  prefix: string,
  perform: (job: OutboxJob) => Promise<void>,
  logger: { warn(o: object, m?: string): void },
  concurrency = 10,
) {
  return new Worker<OutboxJob>(
    OUTBOX_QUEUE,
    async (job: Job<OutboxJob>, token?: string) => {
      try {
        await perform(job.data);
      } catch (error) {
        if (error instanceof ChannelError) {
          logger.warn({ queue: OUTBOX_QUEUE, jobId: job.id, op: job.data.op, permanent: error.permanent, err: error.message }, "outbox send failed");
          if (error.permanent) throw new UnrecoverableError(error.message);
          if (error.retryAfterMs !== undefined) {
            // The platform said when: wait exactly that long instead of our backoff.
            await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
            throw new DelayedError();
          }
        }
        throw error;
      }
    },
    { connection, prefix, concurrency },
  );
}
