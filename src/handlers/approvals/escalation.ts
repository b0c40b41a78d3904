/**
 * The escalation ladder of a request that waits for a person: still undecided `afterSeconds`
 * after creation, the next step's roles may answer too. Pure: which roles may answer now, when
 * each step falls due, and what the card says about it.
 */
import type { Actor, Approval, EscalationStep } from "../../domain/approval.js";
import { AppError } from "../../domain/errors.js";
import { formatDuration } from "../../lib/time-format.js";
import type { TimerPlan } from "./approval-machine.js";

type Ladder = Pick<Approval, "approverRoles" | "escalation" | "escalationLevel">;

/** The roles that may answer now: the request's own, and those of every step taken. */
export function eligibleRoles(approval: Ladder): string[] {
  const roles = [...approval.approverRoles];
  for (const step of approval.escalation.slice(0, approval.escalationLevel))
    for (const role of step.roles) if (!roles.includes(role)) roles.push(role);
  return roles;
}

/**
 * When each step falls due. A step listed after a later one waits for it, so the ladder is
 * climbed in order whatever the numbers say.
 */
export function stepDueTimes(approval: Pick<Approval, "createdAt" | "escalation">): Date[] {
  let after = 0;
  return approval.escalation.map((step) => {
    after = Math.max(after, step.afterSeconds);
    return new Date(approval.createdAt.getTime() + after * 1000);
  });
}

/** The ladder's timers still to come (`escalate-<n>`), only those before the deadline. */
export function escalationPlans(
  approval: Pick<Approval, "createdAt" | "escalation" | "escalationLevel" | "deadlineAt">,
): TimerPlan[] {
  const deadline = approval.deadlineAt?.getTime() ?? Number.POSITIVE_INFINITY;
  return stepDueTimes(approval).flatMap((dueAt, n) =>
    n >= approval.escalationLevel && dueAt.getTime() < deadline ? [{ kind: `escalate-${n}` as const, dueAt }] : [],
  );
}

/** How many steps are taken once the ladder is climbed at `at` (every step due by then). */
export function stepsTakenAt(approval: Pick<Approval, "createdAt" | "escalation" | "escalationLevel">, at: Date) {
  let level = approval.escalationLevel;
  stepDueTimes(approval).forEach((dueAt, n) => {
    if (dueAt.getTime() <= at.getTime()) level = Math.max(level, n + 1);
  });
  return level;
}

/** Operators who may answer `after` but could not `before`: they get the card now. */
export function newlyEligible(before: Ladder, after: Ladder, operators: readonly Actor[]): Actor[] {
  const was = eligibleRoles(before);
  const now = eligibleRoles(after);
  return operators.filter((op) => !op.roles.some((r) => was.includes(r)) && op.roles.some((r) => now.includes(r)));
}

/**
 * What a card says about the steps taken, e.g. "Escalated to ops-lead after 10m unanswered";
 * null while none was.
 */
export function escalationNote(approval: Ladder): string | null {
  if (approval.escalationLevel === 0) return null;
  const taken = approval.escalation.slice(0, approval.escalationLevel);
  const roles = [...new Set(taken.flatMap((step) => step.roles))];
  const after = Math.max(...taken.map((step) => step.afterSeconds));
  return `Escalated to ${roles.join(", ")} after ${formatDuration(after * 1000)} unanswered`;
}

/**
 * Refuse a ladder with a step nobody could take: like `approvers.roles`, its roles must be held
 * by some operator (`400` naming `approvers.escalate`).
 */
export function refuseUnheldSteps(
  steps: readonly EscalationStep[] | undefined,
  eligibleApprovers: ((roles: readonly string[]) => number) | undefined,
): void {
  if (!steps || !eligibleApprovers) return;
  steps.forEach((step, n) => {
    if (eligibleApprovers(step.roles) > 0) return;
    const problem = {
      path: `approvers.escalate.${n}.roles`,
      message: `no operator holds any of these roles: ${step.roles.join(", ")}`,
    };
    throw new AppError({
      code: "invalid_body",
      message: `unheld escalation roles: ${problem.message}`,
      userMessage: "invalid body",
      details: [problem],
    });
  });
}
