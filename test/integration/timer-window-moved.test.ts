/**
 * An objection timer whose window moved later while it ran — the request's notice landed late,
 * after the timer read "nobody saw it" and before its escalation read "seen after all" — waits
 * for the new end instead of completing: it is the window's only timer (real Redis, the service
 * replaced by a script of what it answers).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { Approval } from "../../src/domain/approval.js";
import type { ApprovalService } from "../../src/handlers/approvals/approval-service.js";
import { createTimerQueue, createTimerWorker } from "../../src/jobs/timer-queue.js";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { REDIS_URL, eventually, uniqueName } from "../helpers/harness.js";

const prefix = uniqueName("q");
const connections: Redis[] = [];
const redis = () => {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
};

afterAll(async () => {
  const cleaner = new Redis(REDIS_URL);
  await deleteKeysWithPrefix(cleaner, prefix);
  await cleaner.quit();
  for (const c of connections) await c.quit();
});

describe("objection timer", () => {
  it("runs again at the window's new end when a late notice moved it while the timer ran", async () => {
    const { queue, scheduler } = createTimerQueue(redis(), prefix);
    const id = randomUUID();
    const runs: number[] = [];
    let newEnd = 0;
    // The first run ends as the escalation that saw the late notice ("timer_not_applicable"),
    // with the window now counted from that notice; the second run approves.
    const service: Pick<ApprovalService, "fireTimer"> = {
      async fireTimer(approvalId) {
        runs.push(Date.now());
        if (runs.length === 1) {
          newEnd = Date.now() + 300;
          const moved = { id: approvalId, status: "pending", effectiveGate: "low", objectionEndsAt: new Date(newEnd) };
          return { outcome: "ignored", reason: "timer_not_applicable", approval: moved as Approval };
        }
        const approved = {
          id: approvalId,
          status: "approved",
          effectiveGate: "low",
          objectionEndsAt: new Date(newEnd),
        };
        return { outcome: "ignored", reason: "already_decided", approval: approved as Approval };
      },
    };
    const worker = createTimerWorker(redis(), prefix, service);
    await scheduler.schedule(id, "objection", new Date(Date.now() + 50));

    await eventually(() => runs.length >= 2, "the timer to run again at the window's new end", 5_000);
    expect(runs[1]!, "ran again before the window's new end").toBeGreaterThanOrEqual(newEnd - 20);
    await eventually(async () => !(await queue.getJob(`objection-${id}`)), "the job to complete");
    expect(runs).toHaveLength(2);
    await worker.close();
    await queue.close();
  });
});
