/**
 * A `low` request's notice that reaches someone only after the window's own length does not
 * restart the window: nobody could object in time, so the request becomes `medium`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

type Instance = Awaited<ReturnType<typeof startTestSignoff>>;
let s: Instance;
// No channel at all: no notice is delivered unless the test says so.
beforeAll(async () => {
  s = await startTestSignoff({ webchat: false });
});
afterAll(async () => {
  await s.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

async function lowRequest(title: string) {
  const created = await api(s, "POST", "/api/approvals", { title, gate: "low", objectionSeconds: 2 });
  expect(created.status).toBe(201);
  return created.body as { id: string; createdAt: string };
}

describe("a notice delivered too late", () => {
  it("is refused, and the request becomes medium when its window would have ended", async () => {
    const { id, createdAt } = await lowRequest("restart worker-3");
    const late = new Date(Date.parse(createdAt) + 2_500);
    expect(await s.approvals.confirmNoticeDelivered(id, late)).toBeNull();
    const escalated = await eventually(async () => {
      const a = await s.approvals.get(id);
      return a?.effectiveGate === "medium" ? a : null;
    }, "the request to become medium");
    expect(escalated.status).toBe("pending");
    expect(escalated.noticeDeliveredAt).toBeNull();
  });

  it("in time, it counts and the window restarts from the delivery", async () => {
    const { id, createdAt } = await lowRequest("restart worker-4");
    const inTime = new Date(Date.parse(createdAt) + 500);
    const windowEndsAt = await s.approvals.confirmNoticeDelivered(id, inTime);
    expect(windowEndsAt?.getTime()).toBe(inTime.getTime() + 2_000);
    const approval = await s.approvals.get(id);
    expect(approval?.objectionEndsAt?.getTime()).toBe(inTime.getTime() + 2_000);
  });
});
