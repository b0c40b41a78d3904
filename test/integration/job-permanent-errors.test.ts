/**
 * Job processors against a real Redis: the ops worker (digests, health checks) fails a run with a
 * permanent error on its first attempt instead of retrying it. (Timers: timer-queue.test.ts.)
 */
import { AppError } from "../../src/domain/errors.js";
import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPS_QUEUE, type OpsJobData, createOpsWorker } from "../../src/jobs/ops-queue.js";
import { createLogger } from "../../src/logger.js";
import { type Signoff, startSignoff } from "../../src/app/start.js";
import { REDIS_URL, cleanupTestInstance, eventually, testConfig, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("t");
const prefixes: string[] = [];
const connections: Redis[] = [];
const closers: Array<{ close(): Promise<void> }> = [];
let s: Signoff;

/** A Redis connection, closed after the file. */
function redis(): Redis {
  // BullMQ workers block on their connection, so it must retry commands forever.
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
}

/** A fresh queue prefix and a connection for its queue, cleaned up after the file. */
function freshRedis(): { prefix: string; connection: Redis } {
  const prefix = uniqueName("q");
  prefixes.push(prefix);
  return { prefix, connection: redis() };
}

function track<T extends { close(): Promise<void> }>(closable: T): T {
  closers.push(closable);
  return closable;
}

/** Wait until the job has failed for good or been tried a second time, and return it. */
async function settled(queue: Queue, jobId: string): Promise<Job> {
  return eventually(async () => {
    const job = await queue.getJob(jobId);
    if (!job) return null;
    const settledNow = (await job.getState()) === "failed" || job.attemptsMade >= 2;
    // Read again: the job may have failed between the read above and its state, leaving that
    // copy's attempt count behind.
    return settledNow ? ((await queue.getJob(jobId)) ?? null) : null;
  }, `job ${jobId} failed or retried`);
}

beforeAll(async () => {
  // The store and service only: the test runs the workers itself.
  s = await startSignoff({
    config: testConfig({ schema, prefix: freshRedis().prefix }),
    logger: createLogger("silent"),
    workers: false,
  });
});

afterAll(async () => {
  for (const c of closers.reverse()) await c.close();
  for (const c of connections) await c.quit();
  await s?.close();
  for (const prefix of prefixes) await cleanupTestInstance(schema, prefix);
});

describe("ops worker", () => {
  it("fails a run with a permanent error after one attempt of three", async () => {
    const { prefix, connection } = freshRedis();
    const queue = track(new Queue<OpsJobData>(OPS_QUEUE, { connection, prefix }));
    let runs = 0;
    track(
      createOpsWorker(redis(), prefix, {
        digest: async () => undefined,
        health: async (check) => {
          runs++;
          throw new AppError({ code: "invalid_body", message: `health check ${check} is not configured` });
        },
      }),
    );

    const job = await queue.add(
      "health",
      { kind: "health", check: "db" },
      { attempts: 3, backoff: { type: "fixed", delay: 50 } },
    );
    const settledJob = await settled(queue, job.id as string);

    expect(await settledJob.getState()).toBe("failed");
    expect(settledJob.attemptsMade).toBe(1);
    expect(settledJob.failedReason).toBe("health check db is not configured");
    expect(runs).toBe(1);
  });
});
