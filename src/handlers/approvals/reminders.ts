/**
 * Reminders of a request that waits for a person: when they fall (fixed at creation from the
 * configured points) and who gets one (eligible approvers who have not answered). Pure: the
 * timers are scheduled by the service and the messages go through the outbox.
 */
import type { Actor, Approval, ReminderPoint } from "../../domain/approval.js";
import type { TimerPlan } from "./approval-machine.js";

/** Reminder points closer than this to each other make one reminder (the earlier one). */
export const MIN_REMINDER_GAP_MS = 30_000;

/**
 * No reminder this soon after the card went out: the approver has only just been asked, and a
 * request that short-lived (a deadline of seconds) would get a ping on top of its card.
 */
export const MIN_REMINDER_AFTER_CREATE_MS = 5_000;

/**
 * The reminder times of a request created at `createdAt` with this deadline: points in the past,
 * within {@link MIN_REMINDER_AFTER_CREATE_MS} of creation, or at or after the deadline are
 * skipped, and points within {@link MIN_REMINDER_GAP_MS} of an earlier one are merged into it.
 *
 * @example
 * reminderTimes([{ kind: "share", share: 0.5 }, { kind: "before", seconds: 900 }], created, in20s)
 * // → [created + 10 s]: the 15-minute point is before the request existed
 */
export function reminderTimes(points: readonly ReminderPoint[], createdAt: Date, deadlineAt: Date): Date[] {
  const start = createdAt.getTime();
  const end = deadlineAt.getTime();
  const times = points
    .map((point) => (point.kind === "share" ? start + point.share * (end - start) : end - point.seconds * 1000))
    .filter((t) => t >= start + MIN_REMINDER_AFTER_CREATE_MS && t < end)
    .sort((a, b) => a - b);
  const kept: number[] = [];
  for (const t of times) if (kept.length === 0 || t - kept[kept.length - 1]! >= MIN_REMINDER_GAP_MS) kept.push(t);
  return kept.map((t) => new Date(Math.round(t)));
}

/** The reminder timers still to come (`remind-<n>` for every time not yet done). */
export function reminderPlans(approval: Pick<Approval, "remindAt" | "remindersSent">): TimerPlan[] {
  return approval.remindAt.flatMap((dueAt, n) =>
    n >= approval.remindersSent ? [{ kind: `remind-${n}` as const, dueAt }] : [],
  );
}

/**
 * How many reminder times are done once a reminder goes out at `at`: every time already due
 * counts, so after an outage one reminder stands for all the missed ones.
 */
export function remindersDoneAt(approval: Pick<Approval, "remindAt" | "remindersSent">, at: Date): number {
  let done = approval.remindersSent;
  approval.remindAt.forEach((dueAt, n) => {
    if (dueAt.getTime() <= at.getTime()) done = Math.max(done, n + 1);
  });
  return done;
}

/**
 * Whether this operator still owes the request an answer: eligible (as `eligible` decides, the
 * ladder included), no vote yet, and not the requester whose own approval would not count.
 */
export function owesAnswer(
  approval: Pick<Approval, "decisions" | "requestedBy" | "allowSelfApproval">,
  operator: Actor,
  eligible: (operator: Actor) => boolean,
): boolean {
  if (!eligible(operator)) return false;
  if (approval.decisions.some((d) => d.operator === operator.name)) return false;
  return !(approval.requestedBy === operator.name && !approval.allowSelfApproval);
}
