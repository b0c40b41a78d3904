/**
 * Redis losing its keys while signoff runs (a FLUSHALL, a failover to an empty replica) loses
 * nothing: the sentinel under the queue prefix is gone, so timers are re-created from PostgreSQL
 * within seconds, not at the next periodic reconcile five minutes later.
 */
import { describe, expect, it } from "vitest";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { timerKeys } from "../../src/jobs/timer-queue.js";
import { api, eventually } from "../helpers/harness.js";
import { useSignoffAndRedis } from "../helpers/signoff-and-redis.js";

const env = useSignoffAndRedis();

describe("Redis keys lost while running", () => {
  it("every pending timer is re-created and fires once, within seconds of its due time", async () => {
    const { s, redis } = env;
    const created: Array<{ id: string }> = [];
    for (let i = 0; i < 5; i++)
      created.push(
        (await api(s, "POST", "/api/approvals", { title: `medium ${i}`, gate: "medium", deadlineSeconds: 2 })).body,
      );
    for (let i = 0; i < 5; i++)
      created.push(
        (await api(s, "POST", "/api/approvals", { title: `low ${i}`, gate: "low", objectionSeconds: 2 })).body,
      );
    // Every low notice reached the web chat, so their windows run.
    await eventually(
      async () =>
        (await Promise.all(created.map((c) => s.service.get(c.id)))).every(
          (a) => a!.gate !== "low" || a!.noticeDeliveredAt,
        ),
      "notices delivered",
    );
    const due = timerKeys(s.prefix).due;
    // Reminders of the medium ones, and every window and deadline, are due: none has run yet.
    expect(await redis.zcard(due)).toBeGreaterThanOrEqual(10);
    await deleteKeysWithPrefix(redis, s.prefix);
    expect(await redis.zcard(due)).toBe(0);
    const started = Date.now();
    const decided = await eventually(
      async () => {
        const all = await Promise.all(created.map((c) => s.service.get(c.id)));
        return all.every((a) => a!.status !== "pending") ? all : null;
      },
      "every approval decided after the keys were lost",
      20_000,
      100,
    );
    // Due 2 s after creation; the sentinel is checked every 5 s: well within the 30 s promise.
    expect(Date.now() - started).toBeLessThan(12_000);
    for (const a of decided) {
      expect(a!.decidedBy).toBe(a!.gate === "low" ? "objection-window" : "timeout");
    }
  });
});
