/**
 * Signed webhook deliveries (approval callbacks, commands to sources). Each attempt POSTs the
 * stored body with a fresh timestamp and signature and the delivery's own id (the same on every
 * retry); non-2xx and network errors retry with exponential backoff; after the last attempt the
 * delivery row is marked `dead`. At shutdown in-flight requests are cut off and put back for later
 * without counting as an attempt, so a receiver that never answers cannot hold signoff up.
 */
import { failPermanentErrorsAtOnce } from "./job-errors.js";
import { RESUMABLE_WORKER_OPTIONS } from "./worker-options.js";
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Delivery, DeliveryStore } from "../store/delivery-store.js";
import { webhookHeaders } from "./signing.js";

interface DeliveryJobData {
  deliveryId: string;
}

/** The queue name (under the configured prefix). */
export const DELIVERY_QUEUE = "deliveries";

/** Retry policy of deliveries. */
export interface DeliveryRetryOptions {
  /** Attempts before dead-lettering. @defaultValue 8 */
  attempts: number;
  /** First backoff delay; doubles each attempt. @defaultValue 2000 */
  backoffMs: number;
  /** Per-attempt request timeout. @defaultValue 10000 */
  timeoutMs: number;
}

/** Create the delivery queue; `enqueue` is idempotent per delivery id. */
export function createDeliveryQueue(connection: Redis, prefix: string, retry: DeliveryRetryOptions) {
  const queue = new Queue<DeliveryJobData>(DELIVERY_QUEUE, { connection, prefix });
  const options = (deliveryId: string) => ({
    jobId: `delivery-${deliveryId}`,
    attempts: retry.attempts,
    backoff: { type: "exponential" as const, delay: retry.backoffMs },
    removeOnComplete: true,
    removeOnFail: 1000,
  });
  return {
    queue,
    async enqueue(deliveryId: string): Promise<void> {
      await queue.add("deliver", { deliveryId }, options(deliveryId));
    },
    /** Re-enqueue after a Redis loss: replaces a failed job left with the same id. */
    async ensure(deliveryId: string): Promise<void> {
      const existing = await queue.getJob(`delivery-${deliveryId}`);
      if (existing) {
        const state = await existing.getState();
        if (state !== "failed" && state !== "completed" && state !== "unknown") return;
        await existing.remove().catch(() => undefined);
      }
      await queue.add("deliver", { deliveryId }, options(deliveryId));
    },
  };
}

export { RESUMABLE_WORKER_OPTIONS };
/** How soon a delivery cut off by shutdown may be tried again (by a restart or another instance). */
const INTERRUPTED_RETRY_DELAY_MS = 1_000;

/** The delivery worker, plus the shutdown hook that cuts off in-flight requests. */
export type DeliveryWorker = Worker<DeliveryJobData> & {
  /**
   * Shutdown only: abort every in-flight request and stop starting new ones. Each cut-off delivery
   * stays `pending`, keeps its attempt count and goes back to the queue. Call before `close()`.
   */
  abortInFlight(): void;
};

/** How one delivery attempt ended, told to the observer (log lines, metrics). */
export interface DeliveryAttempt {
  result: "delivered" | "retried" | "dead";
  deliveryId: string;
  kind: Delivery["kind"];
  /** The approval (callbacks) or command (commands) the delivery is about. */
  subjectId: string;
  /** Attempts made so far, this one included. */
  attempts: number;
}

/** The worker that performs deliveries. */
export function createDeliveryWorker(
  connection: Redis,
  prefix: string,
  deps: {
    deliveries: Pick<DeliveryStore, "get" | "recordAttempt">;
    signingSecret: string | undefined;
    timeoutMs: number;
    logger: { warn(o: object, m?: string): void; info(o: object, m?: string): void };
    observe?(attempt: DeliveryAttempt): void;
  },
  concurrency = 20,
): DeliveryWorker {
  const inFlight = new Set<AbortController>();
  let stopping = false;

  /** Put the job back for later without spending an attempt (BullMQ's "moved to delayed"). */
  async function putBack(job: Job<DeliveryJobData>, token: string | undefined, deliveryId: string): Promise<never> {
    deps.logger.info(
      { deliveryId, attempt: job.attemptsMade + 1 },
      "delivery interrupted by shutdown; it will be retried",
    );
    await job.moveToDelayed(Date.now() + INTERRUPTED_RETRY_DELAY_MS, token);
    throw new DelayedError("delivery interrupted by shutdown");
  }

  const worker = new Worker<DeliveryJobData>(
    DELIVERY_QUEUE,
    // As in every worker, an error with a permanent code fails at once; HTTP and network
    // failures below are plain errors and retry until the delivery is dead-lettered.
    failPermanentErrorsAtOnce(async (job: Job<DeliveryJobData>, token?: string) => {
      const delivery = await deps.deliveries.get(job.data.deliveryId);
      if (delivery?.status !== "pending") return "skipped";
      // Config requires the secret whenever a source exists; never sign with a made-up one.
      if (!deps.signingSecret)
        throw new UnrecoverableError("SIGNOFF_SIGNING_SECRET is not set; refusing to send an unsigned webhook");
      if (stopping) return putBack(job, token, delivery.id);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const attempts = job.attemptsMade + 1;
      const told = (result: DeliveryAttempt["result"]) => {
        const attempt = {
          result,
          deliveryId: delivery.id,
          kind: delivery.kind,
          subjectId: delivery.subjectId,
          attempts,
        };
        // Told after the attempt is recorded; an observer's failure must not count as the receiver's.
        try {
          deps.observe?.(attempt);
        } catch (err) {
          deps.logger.warn({ deliveryId: delivery.id, err: (err as Error).message }, "delivery observer failed");
        }
      };
      const shutdown = new AbortController();
      inFlight.add(shutdown);
      let error: string;
      try {
        const response = await fetch(delivery.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            "User-Agent": "signoff",
            ...webhookHeaders(deps.signingSecret, delivery.id, delivery.body, Math.floor(Date.now() / 1000)),
          },
          body: delivery.body,
          signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(deps.timeoutMs)]),
          redirect: "manual",
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          await deps.deliveries.recordAttempt(delivery.id, { ok: true });
          told("delivered");
          return "delivered";
        }
        error = `HTTP ${response.status}`;
      } catch (err) {
        // Our own shutdown, not the receiver's fault: no attempt is recorded or spent.
        if (shutdown.signal.aborted) return putBack(job, token, delivery.id);
        error = (err as Error).name === "TimeoutError" ? "timed out" : `network error: ${(err as Error).message}`;
      } finally {
        inFlight.delete(shutdown);
      }
      await deps.deliveries.recordAttempt(delivery.id, { ok: false, error, dead: lastAttempt });
      deps.logger.warn(
        { deliveryId: delivery.id, kind: delivery.kind, attempt: job.attemptsMade + 1, error, dead: lastAttempt },
        "delivery attempt failed",
      );
      told(lastAttempt ? "dead" : "retried");
      if (lastAttempt) throw new UnrecoverableError(`dead-lettered after ${job.attemptsMade + 1} attempts: ${error}`);
      throw new Error(error);
    }),
    { connection, prefix, concurrency, ...RESUMABLE_WORKER_OPTIONS },
  );
  return Object.assign(worker, {
    abortInFlight(): void {
      stopping = true;
      for (const controller of inFlight) controller.abort();
    },
  });
}
