/**
 * The circuit breaker's counts in PostgreSQL, and failed task reports tripping it through the
 * API: a real signoff (PostgreSQL + Redis), its web chat as the only channel.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { createBreakerCounts } from "../../src/store/breaker-counts.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  s = await startTestSignoff({ file: { breaker: { failedTasks: 2, windowSeconds: 60 } } });
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

const task = (id: string, state: string) => api(s, "POST", "/api/tasks", { id, title: `task ${id}`, state });

describe("breaker counts", () => {
  it("count failed tasks once per failure, dead letters by when they died, and operators' rejections only", async () => {
    const counts = createBreakerCounts(s.db);
    const start = new Date(Date.now() - 1000);
    await task("T-1", "in-progress");
    expect(await counts.failedTasks(start)).toBe(0);
    await s.db.pool.query(
      `INSERT INTO ${s.schema}.deliveries (kind, subject_id, url, body, status, updated_at)
       VALUES ('callback', 'a', 'http://x', '{}', 'dead', now()), ('callback', 'b', 'http://x', '{}', 'dead', now() - interval '1 hour'),
              ('callback', 'c', 'http://x', '{}', 'pending', now())`,
    );
    expect(await counts.deadLetters(start)).toBe(1);
    const prohibited = await api(s, "POST", "/api/approvals", { title: "drop prod", gate: "prohibited" });
    expect(prohibited.body.status).toBe("rejected");
    expect(await counts.rejections(start)).toBe(0); // refused by policy, not by an operator
  });

  it("the second failed task report in the window pauses autonomy, by the breaker", async () => {
    expect((await task("T-2", "failed")).status).toBeLessThan(300);
    expect((await s.settings.pauseState()).paused).toBe(false);
    await task("T-2", "failed"); // the same failure reported again is not another one
    expect((await s.settings.pauseState()).paused).toBe(false);
    await task("T-3", "failed");
    const pause = await eventually(async () => {
      const state = await s.settings.pauseState();
      return state.paused ? state : null;
    }, "pause by the breaker");
    expect(pause.by).toBe("breaker");
    const low = (await api(s, "POST", "/api/approvals", { title: "tidy", gate: "low" })).body;
    expect(low.effectiveGate).toBe("medium");
  });
});
