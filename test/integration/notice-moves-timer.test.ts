/**
 * When a `low` request's notice reaches the web chat, its window counts from then, and its timer
 * moves to the new end at once: it does not fire at the old end only to find it must wait.
 */
import { describe, expect, it } from "vitest";
import { timerKeys, timerMember } from "../../src/jobs/timer-queue.js";
import { api, eventually } from "../helpers/harness.js";
import { useSignoffAndRedis } from "../helpers/signoff-and-redis.js";

const env = useSignoffAndRedis();

describe("a delivered notice", () => {
  it("moves the objection timer to the window's new end", async () => {
    const { s, redis } = env;
    const created = await api(s, "POST", "/api/approvals", { title: "rotate logs", gate: "low", objectionSeconds: 30 });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const approval = await eventually(async () => {
      const a = await s.approvals.get(id);
      return a?.noticeDeliveredAt ? a : null;
    }, "the notice to reach the web chat");
    const end = approval.objectionEndsAt!.getTime();
    expect(end, "the window counts from the delivery").toBeGreaterThan(
      Date.parse(approval.createdAt.toISOString()) + 30_000,
    );

    // The move is sent after the delivery is recorded, without holding up the chat's next message.
    await eventually(
      async () => Number(await redis.zscore(timerKeys(s.prefix).due, timerMember(id, "objection"))) === end,
      "the timer to be due at the window's new end",
      5_000,
    );
  });
});
