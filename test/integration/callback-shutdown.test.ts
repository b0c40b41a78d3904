/**
 * Shutdown with a receiver that accepts and never answers: the delivery worker cuts the request
 * off at once instead of waiting out the callback timeout, the cut-off attempt is not counted
 * (not even on the last allowed try), the delivery stays `pending`, and the next worker delivers
 * it with the same delivery id.
 */
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELIVERY_QUEUE, createDeliveryWorker, type DeliveryWorker } from "../../src/jobs/callback-queue.js";
import { createRedis } from "../../src/jobs/redis/connections.js";
import { createLogger } from "../../src/logger.js";
import { startSignoff, type Signoff } from "../../src/main.js";
import { startScriptedReceiver } from "../helpers/scripted-receiver.js";
import {
  REDIS_URL,
  SIGNING_SECRET,
  api,
  cleanupTestInstance,
  eventually,
  testConfig,
  uniqueName,
} from "../helpers/harness.js";

const TIMEOUT_MS = 30_000; // far longer than any wait below: only the abort can end a hanging request
const schema = uniqueName("t");
const prefix = uniqueName("q");
let s: Signoff;
let queueConnection: Redis;
let queue: Queue;
const logger = createLogger("silent");

beforeAll(async () => {
  const config = testConfig({
    schema,
    prefix,
    file: { approvals: { callbackAttempts: 4, callbackBackoffMs: 50, callbackTimeoutMs: TIMEOUT_MS } },
  });
  s = await startSignoff({ config, logger, workers: false }); // the test runs the delivery workers itself
  queueConnection = createRedis(REDIS_URL);
  queue = new Queue(DELIVERY_QUEUE, { connection: queueConnection, prefix });
});
afterAll(async () => {
  await queue?.close();
  await queueConnection?.quit();
  await s?.close();
  await cleanupTestInstance(schema, prefix);
});

function startWorker(): { worker: DeliveryWorker; stop(): Promise<number> } {
  const connection = createRedis(REDIS_URL);
  const worker = createDeliveryWorker(connection, prefix, {
    deliveries: s.deliveries,
    signingSecret: SIGNING_SECRET,
    timeoutMs: TIMEOUT_MS,
    logger,
  });
  let stopped: Promise<number> | null = null;
  return {
    worker,
    /** Shut down as signoff does (once); resolves with how long it took. */
    stop: () =>
      (stopped ??= (async () => {
        const t0 = Date.now();
        worker.abortInFlight();
        await worker.close();
        await connection.quit();
        return Date.now() - t0;
      })()),
  };
}

async function createCallback(url: string) {
  const approval = (
    await api(s, "POST", "/api/approvals", { title: "hanging receiver", gate: "auto", callbackUrl: url })
  ).body;
  const delivery = await eventually(async () => (await s.deliveries.listBySubject(approval.id))[0], "delivery row");
  return { approval, delivery };
}

describe("shutdown during a delivery", () => {
  it("cuts off a hanging receiver at once; nothing is counted and the next worker delivers it with the same id", async () => {
    const receiver = await startScriptedReceiver((n) => (n === 1 ? "hang" : 200));
    const first = startWorker();
    try {
      const { delivery } = await createCallback(receiver.url);
      await eventually(() => receiver.hangingCount() === 1, "the receiver holding the request");
      const took = await first.stop();
      expect(took).toBeLessThan(2_000);

      expect(await s.deliveries.get(delivery.id)).toMatchObject({ status: "pending", attempts: 0, lastError: null });
      const job = (await queue.getJob(`delivery-${delivery.id}`))!;
      expect(await job.getState()).toBe("delayed");
      expect(job.attemptsMade).toBe(0);

      const second = startWorker();
      try {
        await eventually(() => receiver.successes().length === 1, "delivered by the next worker");
        await eventually(async () => (await s.deliveries.get(delivery.id))?.status === "delivered", "marked delivered");
        expect(await s.deliveries.get(delivery.id)).toMatchObject({ status: "delivered", attempts: 1 });
        expect(receiver.received.map((r) => r.headers["x-signoff-delivery"])).toEqual([delivery.id, delivery.id]);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await receiver.close();
    }
  });

  it("a request cut off on the last allowed attempt is not dead-lettered", async () => {
    const receiver = await startScriptedReceiver((n) => (n <= 3 ? 500 : n === 4 ? "hang" : 200));
    const first = startWorker();
    try {
      const { delivery } = await createCallback(receiver.url);
      await eventually(() => receiver.hangingCount() === 1, "the fourth (last) attempt hanging");
      await first.stop();
      expect(await s.deliveries.get(delivery.id)).toMatchObject({
        status: "pending",
        attempts: 3,
        lastError: "HTTP 500",
      });
      expect((await s.deliveries.listDead()).map((d) => d.id)).not.toContain(delivery.id);
      const job = (await queue.getJob(`delivery-${delivery.id}`))!;
      expect(job.attemptsMade).toBe(3);

      const second = startWorker();
      try {
        await eventually(
          async () => (await s.deliveries.get(delivery.id))?.status === "delivered",
          "delivered after the restart",
        );
        expect(await s.deliveries.get(delivery.id)).toMatchObject({ status: "delivered", attempts: 4 });
        expect(receiver.received.map((r) => r.reply)).toEqual([500, 500, 500, "hang", 200]);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await receiver.close();
    }
  });

  it("once shutting down, a delivery picked up before the worker closes is put back without a request", async () => {
    const receiver = await startScriptedReceiver();
    const first = startWorker();
    try {
      await first.worker.waitUntilReady();
      first.worker.abortInFlight();
      const { delivery } = await createCallback(receiver.url);
      await eventually(
        async () => (await queue.getJob(`delivery-${delivery.id}`))?.processedOn,
        "the worker taking the job",
      );
      await new Promise((r) => setTimeout(r, 300));
      await first.stop();
      expect(receiver.received).toHaveLength(0);
      expect(await s.deliveries.get(delivery.id)).toMatchObject({ status: "pending", attempts: 0 });
      expect(["delayed", "waiting"]).toContain(await (await queue.getJob(`delivery-${delivery.id}`))!.getState());
    } finally {
      await first.stop();
      await receiver.close();
    }
  });
});
