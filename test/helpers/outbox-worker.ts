/**
 * A real outbox queue and worker on Redis for Telegram private chats, whose `perform` (the
 * presenter in production) is the test's recorder.
 */
import type { Redis } from "ioredis";
import type { OutboxJob } from "../../src/domain/outbox.js";
import { createOutboxQueue, createOutboxWorker, type SlotReserver } from "../../src/jobs/outbox-queue.js";

/** Start the outbox paced by `limiter`; the queue's and the worker's close go onto `closers`. */
export function startTelegramOutbox(options: {
  producer: Redis;
  workerConnection: Redis;
  prefix: string;
  perform: (job: OutboxJob) => Promise<void>;
  limiter: SlotReserver;
  closers: Array<() => Promise<unknown>>;
  concurrency?: number;
  patienceMs?: number;
}) {
  const outbox = createOutboxQueue(options.producer, options.prefix, new Set(["telegram"]));
  const worker = createOutboxWorker(
    options.workerConnection,
    options.prefix,
    options.perform,
    { warn() {} },
    {
      pacing: { telegram: { limiter: options.limiter, isGroup: () => false } },
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.patienceMs ? { patienceMs: options.patienceMs } : {}),
    },
  );
  options.closers.push(
    () => outbox.queue.close(),
    () => worker.close(),
  );
  return outbox;
}
