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

  it("reminds from then on, at the configured points of its new time, unless it asked for none", () => {
    const points = [
      { kind: "share" as const, share: 0.5 },
      { kind: "before" as const, seconds: 900 },
    ];
    const at = new Date("2026-11-22T00:00:10Z");
    const escalate = {
      type: "escalate" as const,
      at,
      deadlineSeconds: 3_600,
      reason: "paused" as const,
      remindAt: points,
    };
    const { approval } = createApproval({ title: "restart", gate: "low" }, ctx);
    const result = transition(approval, escalate);
    // Half of the hour it now has, and 15 minutes before its deadline; none sent yet.
    expect(result.approval.remindAt).toEqual([new Date("2026-11-22T00:30:10Z"), new Date("2026-11-22T00:45:10Z")]);
    expect(result.approval.remindersSent).toBe(0);
    expect(plannedTimers(result.approval).map((t) => t.kind)).toEqual(["deadline", "remind-0", "remind-1"]);

    const quiet = createApproval({ title: "restart", gate: "low", remind: false }, ctx).approval;
    expect(transition(quiet, escalate).approval.remindAt).toEqual([]);
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
