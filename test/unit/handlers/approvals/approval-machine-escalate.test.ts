import { describe, expect, it } from "vitest";
import { createApproval, plannedTimers, transition } from "../../../../src/handlers/approvals/approval-machine.js";

const ctx = {
  id: "00000000-0000-0000-0000-000000000001",
  code: "K7QF",
  source: "forge",
  now: new Date("2026-11-22T00:00:00Z"),
  paused: false,
  defaultDeadlineSeconds: 14_400,
  defaultObjectionSeconds: 10,
};

describe("escalate (pause reaching a waiting low request)", () => {
  it("turns a pending low request into medium with a deadline and a deny default", () => {
    const { approval } = createApproval({ title: "restart", gate: "low" }, ctx);
    const at = new Date("2026-11-22T00:00:10Z");
    const result = transition(approval, { type: "escalate", at, deadlineSeconds: 600, reason: "paused" });
    expect(result.outcome).toBe("escalated");
    expect(result.approval).toMatchObject({
      status: "pending",
      gate: "low",
      effectiveGate: "medium",
      onTimeout: "deny",
      version: 1,
    });
    expect(result.approval.deadlineAt).toEqual(new Date("2026-11-22T00:10:10Z"));
    expect(plannedTimers(result.approval)).toEqual([{ kind: "deadline", dueAt: result.approval.deadlineAt }]);
    // the objection window no longer approves it
    expect(transition(result.approval, { type: "timer", kind: "objection", at }).outcome).toBe("ignored");
  });

  it("changes nothing for other gates or decided requests", () => {
    const medium = createApproval({ title: "deploy", gate: "medium" }, ctx).approval;
    expect(transition(medium, { type: "escalate", at: ctx.now, deadlineSeconds: 60, reason: "paused" })).toMatchObject({
      outcome: "ignored",
      reason: "timer_not_applicable",
    });
    const low = createApproval({ title: "restart", gate: "low" }, ctx).approval;
    const decided = { ...low, status: "approved" as const };
    expect(transition(decided, { type: "escalate", at: ctx.now, deadlineSeconds: 60, reason: "paused" })).toMatchObject(
      { outcome: "ignored", reason: "already_decided" },
    );
  });
});
