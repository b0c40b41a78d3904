/**
 * The reconcile's cheap timer check against a real Redis: a page of timers costs one script call
 * while their jobs are intact, and exactly the ones Redis lost, or whose job failed, completed or
 * sits in no state at all, are re-created as delayed jobs; waiting and delayed ones are left alone.
 */
import { randomUUID } from "node:crypto";
import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TIMER_QUEUE, type TimerToEnsure, createTimerQueue } from "../../src/jobs/timer-queue.js";
import { REDIS_URL, cleanupTestInstance, eventually, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("t"); // no schema is created; cleanup only needs a name
const prefixes: string[] = [];
const connections: Redis[] = [];
let redis: Redis;

function fresh() {
  const prefix = uniqueName("q");
  prefixes.push(prefix);
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(connection);
  return { prefix, connection, ...createTimerQueue(connection, prefix) };
}

const inAnHour = () => new Date(Date.now() + 3_600_000);
const timer = (): TimerToEnsure => ({ approvalId: randomUUID(), kind: "deadline", dueAt: inAnHour() });
const idOf = (t: TimerToEnsure) => `${t.kind}-${t.approvalId}`;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  for (const c of connections) await c.quit();
  await redis.quit();
  for (const prefix of prefixes) await cleanupTestInstance(schema, prefix);
});

describe("ensureAll", () => {
  it("re-creates only the timers whose job is lost, failed, completed or in no state", async () => {
    const { prefix, connection, queue, scheduler } = fresh();
    const [delayed, lost, failed, completed, orphaned, waiting] = Array.from({ length: 6 }, timer) as [
      TimerToEnsure,
      TimerToEnsure,
      TimerToEnsure,
      TimerToEnsure,
      TimerToEnsure,
      TimerToEnsure,
    ];
    // A failed and a completed job, as a worker leaves them (completed ones are kept here, as a
    // queue with other options would keep them).
    await queue.add("deadline", { approvalId: failed.approvalId, kind: "deadline" }, { jobId: idOf(failed) });
    await queue.add(
      "deadline",
      { approvalId: completed.approvalId, kind: "deadline" },
      { jobId: idOf(completed), removeOnComplete: false },
    );
    const worker = new Worker(
      TIMER_QUEUE,
      async (job) => {
        if (job.id === idOf(failed)) throw new UnrecoverableError("approval gone");
        return "decided";
      },
      { connection, prefix },
    );
    try {
      await eventually(
        async () =>
          (await queue.getJobState(idOf(failed))) === "failed" &&
          (await queue.getJobState(idOf(completed))) === "completed",
        "one job failed and one completed",
      );
    } finally {
      await worker.close();
    }
    for (const t of [delayed, lost, orphaned]) await scheduler.schedule(t.approvalId, t.kind, t.dueAt);
    await scheduler.schedule(waiting.approvalId, waiting.kind, new Date()); // due now, no worker: waiting
    await redis.del(`${prefix}:${TIMER_QUEUE}:${idOf(lost)}`); // Redis lost the job
    await redis.zrem(`${prefix}:${TIMER_QUEUE}:delayed`, idOf(orphaned)); // its hash stayed, in no state
    const delayedBefore = await queue.getJob(idOf(delayed));

    const all = [delayed, lost, failed, completed, orphaned, waiting];
    expect(await scheduler.ensureAll(all)).toBe(4);

    const states = await Promise.all(all.map((t) => queue.getJobState(idOf(t))));
    expect(states).toEqual(["delayed", "delayed", "delayed", "delayed", "delayed", "waiting"]);
    // The intact job is the same job, not one removed and added again.
    expect((await queue.getJob(idOf(delayed)))?.timestamp).toBe(delayedBefore?.timestamp);
    // Nothing left to repair.
    expect(await scheduler.ensureAll(all)).toBe(0);
  });

  it("checks timers in batches and finds the lost ones in every batch", async () => {
    const { prefix, queue, scheduler } = fresh();
    const timers = Array.from({ length: 2_500 }, timer);
    await queue.addBulk(
      timers.map((t) => ({
        name: t.kind,
        data: { approvalId: t.approvalId, kind: t.kind, dueAt: t.dueAt.getTime() },
        opts: { jobId: idOf(t), delay: 3_600_000 },
      })),
    );
    // One lost in each batch of 1,000, at its edges.
    const lost = [timers[0]!, timers[1_000]!, timers[2_499]!];
    await redis.del(...lost.map((t) => `${prefix}:${TIMER_QUEUE}:${idOf(t)}`));

    expect(await scheduler.ensureAll(timers)).toBe(lost.length);
    for (const t of lost) expect(await queue.getJobState(idOf(t))).toBe("delayed");
    expect(await scheduler.ensureAll([])).toBe(0);
  });
});
