/**
 * Reminders and the escalation ladder as pure rules: when reminders fall, that each counts once,
 * that nothing is planned or done for a decided request, and that a step taken lets its roles
 * answer (and only then).
 */
import { describe, expect, it } from "vitest";
import type { Approval, ReminderPoint } from "../../../../src/domain/approval.js";
import { createApproval, isEligible, plannedTimers } from "../../../../src/handlers/approvals/approval-machine.js";
import { escalationNote, newlyEligible } from "../../../../src/handlers/approvals/escalation.js";
import { applyLifecycleTimer } from "../../../../src/handlers/approvals/lifecycle-timers.js";
import { owesAnswer, reminderTimes } from "../../../../src/handlers/approvals/reminders.js";

const T0 = new Date("2030-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const HALF: ReminderPoint = { kind: "share", share: 0.5 };
const FIFTEEN_MIN: ReminderPoint = { kind: "before", seconds: 900 };

function medium(body: Record<string, unknown> = {}, ctx: Partial<Parameters<typeof createApproval>[1]> = {}) {
  return createApproval({ title: "Deploy api v2.3", gate: "medium", ...body } as never, {
    id: "7f0c2a8e-4b1d-4c3e-9a5f-0d6e1b2c3a4f",
    code: "K7QF",
    source: "forge",
    now: T0,
    paused: false,
    defaultDeadlineSeconds: 14_400,
    defaultObjectionSeconds: 10,
    remindAt: [HALF, FIFTEEN_MIN],
    ...ctx,
  }).approval;
}

describe("reminder times", () => {
  it("fall at half time and 15 minutes before the deadline by default", () => {
    expect(reminderTimes([HALF, FIFTEEN_MIN], T0, at(4 * 3600))).toEqual([at(7200), at(4 * 3600 - 900)]);
  });

  it("skip points before the request existed or at or after the deadline", () => {
    // A 20 s deadline: the 15-minute point is in the past, 100 % is the deadline itself.
    expect(reminderTimes([HALF, FIFTEEN_MIN, { kind: "share", share: 1 }], T0, at(20))).toEqual([at(10)]);
  });

  it("skip points within 5 s of creation: a request of a few seconds gets its card, not a ping on top", () => {
    expect(reminderTimes([HALF], T0, at(0.3))).toEqual([]);
    expect(reminderTimes([HALF], T0, at(9))).toEqual([]);
    expect(reminderTimes([HALF], T0, at(10))).toEqual([at(5)]);
  });

  it("merge points closer than 30 s to each other into the earlier one", () => {
    const points: ReminderPoint[] = [{ kind: "before", seconds: 600 }, HALF, { kind: "before", seconds: 590 }];
    expect(reminderTimes(points, T0, at(1200))).toEqual([at(600)]);
    expect(reminderTimes([HALF, { kind: "before", seconds: 560 }], T0, at(1200))).toEqual([at(600), at(640)]);
  });

  it("are fixed at creation; remind: false has none, and a low request none", () => {
    expect(medium({ deadlineSeconds: 20 }).remindAt).toEqual([at(10)]);
    expect(medium({ deadlineSeconds: 20, remind: false }).remindAt).toEqual([]);
    expect(medium({ gate: "low" }).remindAt).toEqual([]);
  });
});

describe("reminder timers", () => {
  const a = medium({ deadlineSeconds: 3600 }); // reminders at 30 min and 45 min
  const kinds = (approval: Approval) => plannedTimers(approval).map((t) => t.kind);

  it("are planned beside the deadline while pending, none once decided", () => {
    expect(kinds(a)).toEqual(["deadline", "remind-0", "remind-1"]);
    expect(plannedTimers({ ...a, status: "approved" })).toEqual([]);
  });

  it("count once: a reminder done is no longer planned, and firing it again changes nothing", () => {
    const first = applyLifecycleTimer(a, "remind-0", at(1800));
    expect(first.outcome).toBe("reminded");
    expect(first.approval.remindersSent).toBe(1);
    expect(first.approval.version).toBe(a.version + 1);
    expect(kinds(first.approval)).toEqual(["deadline", "remind-1"]);
    expect(applyLifecycleTimer(first.approval, "remind-0", at(1900))).toMatchObject({
      outcome: "ignored",
      reason: "timer_not_applicable",
    });
  });

  it("after an outage one reminder stands for every one missed", () => {
    const late = applyLifecycleTimer(a, "remind-0", at(3000));
    expect(late.approval.remindersSent).toBe(2);
    expect(applyLifecycleTimer(late.approval, "remind-1", at(3000)).outcome).toBe("ignored");
  });

  it("do nothing early or after the decision", () => {
    expect(applyLifecycleTimer(a, "remind-0", at(1000))).toMatchObject({ outcome: "ignored", reason: "timer_not_due" });
    expect(applyLifecycleTimer({ ...a, status: "rejected" }, "remind-0", at(1800))).toMatchObject({
      outcome: "ignored",
      reason: "already_decided",
    });
  });

  it("go to approvers without a vote, never to the requester whose approval would not count", () => {
    const voted = {
      ...a,
      requestedBy: "rita",
      decisions: [{ operator: "adam", verdict: "approve" as const, note: null, channel: "webchat", at: T0 }],
    };
    const eligible = (op: { name: string; roles: readonly string[] }) => isEligible(voted, op);
    expect(owesAnswer(voted, { name: "adam", roles: ["approver"] }, eligible)).toBe(false);
    expect(owesAnswer(voted, { name: "eve", roles: ["approver"] }, eligible)).toBe(true);
    expect(owesAnswer(voted, { name: "rita", roles: ["approver"] }, eligible)).toBe(false);
    expect(owesAnswer(voted, { name: "vic", roles: ["viewer"] }, eligible)).toBe(false);
  });
});

describe("the escalation ladder", () => {
  const ladder = [
    { afterSeconds: 2, roles: ["ops-lead"] },
    { afterSeconds: 60, roles: ["cto"] },
  ];
  const a = medium({ deadlineSeconds: 3600, approvers: { roles: ["approver"], escalate: ladder } }, { remindAt: [] });
  const lead = { name: "olga", roles: ["ops-lead"] };

  it("comes from the request, else from the configured default; [] means none", () => {
    expect(a.escalation).toEqual(ladder);
    expect(medium({}, { escalate: [{ afterSeconds: 5, roles: ["x"] }] }).escalation).toEqual([
      { afterSeconds: 5, roles: ["x"] },
    ]);
    expect(
      medium({ approvers: { escalate: [] } }, { escalate: [{ afterSeconds: 5, roles: ["x"] }] }).escalation,
    ).toEqual([]);
  });

  it("lets the next roles answer only once a step is taken, and says so on the card", () => {
    expect(plannedTimers(a).map((t) => [t.kind, t.dueAt])).toEqual([
      ["deadline", at(3600)],
      ["escalate-0", at(2)],
      ["escalate-1", at(60)],
    ]);
    expect(isEligible(a, lead)).toBe(false);
    expect(applyLifecycleTimer(a, "escalate-0", at(1))).toMatchObject({ outcome: "ignored", reason: "timer_not_due" });
    const up = applyLifecycleTimer(a, "escalate-0", at(2));
    expect(up).toMatchObject({ outcome: "roles_escalated", level: 1, steps: [ladder[0]] });
    expect(isEligible(up.approval, lead)).toBe(true);
    expect(isEligible(up.approval, { name: "carl", roles: ["cto"] })).toBe(false);
    expect(newlyEligible(a, up.approval, [lead, { name: "eve", roles: ["approver", "ops-lead"] }])).toEqual([lead]);
    expect(escalationNote(up.approval)).toBe("Escalated to ops-lead after 2s unanswered");
    expect(plannedTimers(up.approval).map((t) => t.kind)).toEqual(["deadline", "escalate-1"]);
  });

  it("takes no step past the deadline or after the decision", () => {
    const short = medium({ deadlineSeconds: 30, approvers: { escalate: ladder } }, { remindAt: [] });
    expect(plannedTimers(short).map((t) => t.kind)).toEqual(["deadline", "escalate-0"]);
    expect(applyLifecycleTimer({ ...a, status: "approved" }, "escalate-0", at(5)).outcome).toBe("ignored");
  });
});
