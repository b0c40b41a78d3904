/**
 * The timers that keep a waiting request moving without deciding it: reminders and the steps of
 * its escalation ladder. Pure, like the state machine: (approval, timer, now) → the approval with
 * the reminder or step counted, which the service stores with a compare-and-set, so a reminder
 * or step counts once however often its timer fires (restarts, re-created timers).
 */
import type { Approval, EscalationStep, TimerKind } from "../../domain/approval.js";
import { type IgnoreReason, TIMER_TOLERANCE_MS, plannedTimers } from "./approval-machine.js";
import { stepsTakenAt } from "./escalation.js";
import { remindersDoneAt } from "./reminders.js";

/** A reminder or a ladder step (see {@link TimerKind}). */
export type LifecycleTimerKind = `remind-${number}` | `escalate-${number}`;

/** What a reminder or ladder timer did. */
export type LifecycleResult =
  | { outcome: "reminded"; approval: Approval }
  /** `steps` were taken now (usually one): their roles may answer. */
  | { outcome: "roles_escalated"; approval: Approval; steps: EscalationStep[]; level: number }
  | { outcome: "ignored"; reason: IgnoreReason; approval: Approval };

/** Whether a timer is a reminder or a ladder step (as opposed to a window or a deadline). */
export function isLifecycleTimer(kind: TimerKind): kind is LifecycleTimerKind {
  return kind.startsWith("remind-") || kind.startsWith("escalate-");
}

/**
 * Apply a reminder or ladder timer. Decided requests, and timers no longer planned (done
 * already, or past the deadline), change nothing.
 */
export function applyLifecycleTimer(approval: Approval, kind: LifecycleTimerKind, at: Date): LifecycleResult {
  if (approval.status !== "pending") return { outcome: "ignored", reason: "already_decided", approval };
  const plan = plannedTimers(approval).find((t) => t.kind === kind);
  if (!plan) return { outcome: "ignored", reason: "timer_not_applicable", approval };
  if (at.getTime() + TIMER_TOLERANCE_MS < plan.dueAt.getTime())
    return { outcome: "ignored", reason: "timer_not_due", approval };
  const due = new Date(Math.max(at.getTime(), plan.dueAt.getTime()));
  if (kind.startsWith("remind-")) {
    return {
      outcome: "reminded",
      approval: { ...approval, remindersSent: remindersDoneAt(approval, due), version: approval.version + 1 },
    };
  }
  const level = stepsTakenAt(approval, due);
  return {
    outcome: "roles_escalated",
    approval: { ...approval, escalationLevel: level, version: approval.version + 1 },
    steps: approval.escalation.slice(approval.escalationLevel, level),
    level,
  };
}
