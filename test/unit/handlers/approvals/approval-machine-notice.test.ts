import { describe, expect, it } from "vitest";
import {
  createApproval,
  noticeDueBy,
  transition,
  withNoticeDelivered,
} from "../../../../src/handlers/approvals/approval-machine.js";

const t0 = new Date("2026-11-22T00:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const ctx = {
  id: "00000000-0000-0000-0000-000000000001",
  code: "K7QF",
  source: "forge",
  now: t0,
  paused: false,
  defaultDeadlineSeconds: 14_400,
  defaultObjectionSeconds: 10,
};
const low = () => createApproval({ title: "restart worker-3", gate: "low" }, ctx).approval;
const escalate = (ms: number) => ({
  type: "escalate" as const,
  at: at(ms),
  deadlineSeconds: 600,
  reason: "notice_not_delivered" as const,
});

describe("no one can object to what they never saw", () => {
  it("a low request whose notice was never delivered is never approved by its window", () => {
    const a = low();
    expect(a.noticeDeliveredAt).toBeNull();
    for (const ms of [10_000, 60_000, 86_400_000]) {
      expect(transition(a, { type: "timer", kind: "objection", at: at(ms) })).toMatchObject({
        outcome: "ignored",
        reason: "notice_not_delivered",
      });
    }
  });

  it("the window counts from the delivery of the first notice", () => {
    const seen = withNoticeDelivered(low(), at(4_000));
    expect(seen.noticeDeliveredAt).toEqual(at(4_000));
    expect(seen.objectionEndsAt).toEqual(at(14_000));
    expect(transition(seen, { type: "timer", kind: "objection", at: at(10_000) })).toMatchObject({
      outcome: "ignored",
      reason: "timer_not_due",
    });
    expect(transition(seen, { type: "timer", kind: "objection", at: at(14_000) }).approval).toMatchObject({
      status: "approved",
      decidedBy: "objection-window",
    });
  });

  it("only the first delivery counts, and only for a pending low request", () => {
    const seen = withNoticeDelivered(low(), at(1_000));
    expect(withNoticeDelivered(seen, at(5_000))).toBe(seen);
    const medium = createApproval({ title: "deploy", gate: "medium" }, ctx).approval;
    expect(withNoticeDelivered(medium, at(1_000))).toBe(medium);
    const decided = { ...low(), status: "rejected" as const };
    expect(withNoticeDelivered(decided, at(1_000))).toBe(decided);
  });

  it("undelivered after the window's length: it becomes medium with a deadline; not before", () => {
    const a = low();
    expect(noticeDueBy(a)).toEqual(at(10_000));
    expect(transition(a, escalate(5_000))).toMatchObject({ outcome: "ignored", reason: "timer_not_due" });
    const r = transition(a, escalate(10_000));
    expect(r.outcome).toBe("escalated");
    expect(r.approval).toMatchObject({
      status: "pending",
      effectiveGate: "medium",
      onTimeout: "deny",
      deadlineAt: at(610_000),
    });
  });

  it("delivered after all: the escalation for a missing notice does not apply", () => {
    const seen = withNoticeDelivered(low(), at(9_000));
    expect(transition(seen, escalate(10_000))).toMatchObject({ outcome: "ignored", reason: "timer_not_applicable" });
  });
});
