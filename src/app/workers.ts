/**
 * The workers: timers (claimed in batches from a sorted set), and the BullMQ ones for callback
 * and command deliveries, the chat outbox, and scheduled digests and health checks. Every
 * process may run them; the timer claims and BullMQ spread the work.
 */
import type { Worker } from "bullmq";
import type { Config } from "../config.js";
import { createDeliveryWorker } from "../jobs/callback-queue.js";
import { createOpsWorker } from "../jobs/ops-queue.js";
import { createOutboxWorker } from "../jobs/outbox-queue.js";
import { type TimerWorker, createTimerWorker } from "../jobs/timer-worker.js";
import type { Logger } from "../logger.js";
import type { ApprovalParts } from "./approvals.js";
import type { ChannelParts } from "./channels.js";
import type { ChatOpsParts } from "./chat-ops.js";
import type { Infrastructure } from "./infrastructure.js";

/** The running workers, and how to stop them. */
export interface WorkerParts {
  workers: Array<Worker | TimerWorker>;
  /** Cut off webhook calls in flight (they stay pending and are retried), then let jobs finish. */
  close(): Promise<void>;
}

/** Start the workers (each on its own duplicate of the general Redis connection). */
export function startWorkers(
  infra: Infrastructure,
  chatSide: ChannelParts,
  engine: ApprovalParts,
  chatOps: ChatOpsParts,
  wiring: { config: Readonly<Config>; logger: Logger; timerConcurrency: number },
): WorkerParts {
  const { env, file } = wiring.config;
  const prefix = env.SIGNOFF_QUEUE_PREFIX;
  const connection = () => infra.redis.duplicate();
  const deliveryWorker = createDeliveryWorker(connection(), prefix, {
    deliveries: engine.deliveries,
    signingSecret: env.SIGNOFF_SIGNING_SECRET,
    timeoutMs: file.approvals.callbackTimeoutMs,
    logger: wiring.logger.child({ queue: "deliveries" }),
    observe: (attempt) => {
      chatSide.observe.deliveryAttempt(attempt);
      // A dead letter may trip the circuit breaker (counted in PostgreSQL, so across processes).
      if (attempt.result === "dead")
        void engine.breaker
          .check("deadLetters")
          .catch((err) => wiring.logger.warn({ err: (err as Error).message }, "breaker check failed"));
    },
  });
  const timerWorker = createTimerWorker(connection(), prefix, engine.service, {
    concurrency: wiring.timerConcurrency,
    observe: chatSide.observe.timers,
    wakeups: engine.timers.wakeups,
  });
  const workers: Array<Worker | TimerWorker> = [
    timerWorker,
    deliveryWorker,
    createOutboxWorker(
      connection(),
      prefix,
      chatSide.observe.countSends(engine.presenter.perform),
      wiring.logger.child({ queue: "outbox" }),
      { pacing: chatSide.pacing, concurrency: 20 },
    ),
    createOpsWorker(connection(), prefix, {
      digest: (operator) => chatOps.ops.digests.sendScheduled(operator, "schedule"),
      health: chatOps.ops.runHealthCheck,
    }),
  ];
  for (const w of workers) {
    (w as TimerWorker).on("error", (err: Error) =>
      infra.outageLog.warn(`worker:${w.name}`, { err: err.message, queue: w.name }, "worker error"),
    );
  }
  return {
    workers,
    async close() {
      // A webhook receiver that never answers must not hold up shutdown.
      deliveryWorker.abortInFlight();
      await Promise.all(workers.map((w) => w.close())); // waits for active jobs
      timerWorker.connection.disconnect();
      for (const w of workers)
        if (w !== timerWorker) ((w as Worker).opts.connection as { disconnect?: () => void }).disconnect?.();
    },
  };
}
