/**
 * The approval state machine , as pure functions: (approval, event, now) → result.
 * No I/O: the store applies results with a compare-and-set on `version`, so when several
 * answers and timers race, exactly one terminal result is committed.
 */
import type { CreateApprovalBody } from "../../domain/requests/approval-requests.js";
import {
  type Actor,
  type Announcement,
  DEFAULT_APPROVER_ROLES,
  type Approval,
  type Decision,
  type EscalationStep,
  type Gate,
  type ReminderPoint,
  type TimerKind,
  type Verdict,
} from "../../domain/approval.js";
import { payloadSha256 } from "../../domain/payload-digest.js";
import { eligibleRoles, escalationPlans } from "./escalation.js";
import { reminderPlans, reminderTimes } from "./reminders.js";

/** Everything that can happen to a pending approval. */
export type ApprovalEvent =
  | { type: "answer"; operator: Actor; verdict: Verdict; note: string | null; channel: string; at: Date }
  | { type: "timer"; kind: TimerKind; at: Date }
  | { type: "cancel"; by: string; at: Date }
  /**
   * A `low` request now needs a person, like `medium`: autonomy was paused while it waited, or
   * its notice reached nobody within the window's length (no one can object to what they never saw).
   * From then on it reminds its approvers at `remindAt` (the configured points), as `medium` does.
   */
  | {
      type: "escalate";
      at: Date;
      deadlineSeconds: number;
      reason: EscalationReason;
      remindAt?: readonly ReminderPoint[];
    };

/** Why a `low` request became `medium`. */
export type EscalationReason = "paused" | "notice_not_delivered";

/** Why an event changed nothing. */
export type IgnoreReason =
  | "already_decided"
  | "not_eligible"
  /** The operator a tool asked on behalf of approved their own request, which does not count. */
  | "self_approval"
  | "note_required"
  | "already_voted"
  | "timer_not_due"
  | "timer_not_applicable"
  | "notice_not_delivered";

/** What an event did; `approval` is the new state (or the unchanged one when ignored). */
export type TransitionResult =
  | { outcome: "decided"; approval: Approval; decision: Decision | null }
  | { outcome: "vote_recorded"; approval: Approval; decision: Decision; approvals: number; quorum: number }
  | { outcome: "escalated"; approval: Approval }
  | { outcome: "ignored"; reason: IgnoreReason; approval: Approval };

/**
 * A validated create request: the API's create body as its schema parses it (one definition, so
 * a field added to the API reaches the machine typed).
 */
export type CreateApprovalInput = CreateApprovalBody;

/** Facts the machine needs to create a request but must not invent itself. */
export interface CreateContext {
  id: string;
  code: string;
  source: string;
  now: Date;
  paused: boolean;
  defaultDeadlineSeconds: number;
  defaultObjectionSeconds: number;
  /** When requests waiting for a person remind their approvers (none when absent). */
  remindAt?: readonly ReminderPoint[];
  /** The escalation ladder of requests that bring none (none when absent). */
  escalate?: readonly EscalationStep[];
}

/** Timers a pending approval needs, each with its due time. */
export interface TimerPlan {
  kind: TimerKind;
  dueAt: Date;
}

/** A timer may arrive this early (clock skew between processes) and still count as due. */
export const TIMER_TOLERANCE_MS = 25;

/**
 * Build a new approval from a request: applies pause (auto/low become medium), decides
 * `auto` and `prohibited` at once, and says how to announce it.
 */
export function createApproval(
  input: CreateApprovalInput,
  ctx: CreateContext,
): { approval: Approval; announcement: Announcement } {
  const effectiveGate: Gate = ctx.paused && (input.gate === "auto" || input.gate === "low") ? "medium" : input.gate;
  const base: Approval = {
    id: ctx.id,
    code: ctx.code,
    source: ctx.source,
    title: input.title,
    reason: input.reason ?? null,
    agent: input.agent ?? null,
    gate: input.gate,
    effectiveGate,
    preview: input.preview ?? null,
    status: "pending",
    decidedBy: null,
    decidedAt: null,
    note: null,
    onTimeout: effectiveGate === "medium" ? (input.onTimeout ?? "deny") : "deny",
    approverRoles: input.approvers?.roles?.length ? [...input.approvers.roles] : [...DEFAULT_APPROVER_ROLES],
    quorum: input.approvers?.quorum ?? 1,
    callbackUrl: input.callbackUrl ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
    metadata: input.metadata ?? null,
    notify: input.notify ?? false,
    action: input.action ?? null,
    payload: input.payload === undefined ? null : input.payload,
    payloadSha256: input.payload === undefined ? null : payloadSha256(input.payload),
    requestedBy: input.requestedBy ?? null,
    allowSelfApproval: input.allowSelfApproval ?? false,
    decisions: [],
    createdAt: ctx.now,
    deadlineAt: null,
    objectionEndsAt: null,
    objectionSeconds: null,
    noticeDeliveredAt: null,
    remind: input.remind ?? true,
    remindAt: [],
    remindersSent: 0,
    escalation: (input.approvers?.escalate ?? ctx.escalate ?? []).map((step) => ({
      afterSeconds: step.afterSeconds,
      roles: [...step.roles],
    })),
    escalationLevel: 0,
    version: 0,
  };
  switch (effectiveGate) {
    case "auto":
      return {
        approval: { ...base, status: "approved", decidedBy: "policy", decidedAt: ctx.now },
        announcement: base.notify ? "auto_notice" : null,
      };
    case "prohibited":
      return {
        approval: {
          ...base,
          status: "rejected",
          decidedBy: "policy",
          decidedAt: ctx.now,
          note: "prohibited by policy",
        },
        announcement: "advisory",
      };
    case "low": {
      const seconds = input.objectionSeconds ?? ctx.defaultObjectionSeconds;
      // Provisional end: it moves to delivery + seconds once the notice is confirmed delivered.
      return {
        approval: { ...base, objectionSeconds: seconds, objectionEndsAt: addSeconds(ctx.now, seconds) },
        announcement: "notice",
      };
    }
    case "medium":
    case "hard": {
      const seconds = input.deadlineSeconds ?? ctx.defaultDeadlineSeconds;
      const deadlineAt = addSeconds(ctx.now, seconds);
      const remindAt = base.remind ? reminderTimes(ctx.remindAt ?? [], ctx.now, deadlineAt) : [];
      return { approval: { ...base, deadlineAt, remindAt }, announcement: "card" };
    }
  }
}

/**
 * The timers a stored approval needs right now (none once it is decided): a `low` request's
 * window; a `medium`/`hard` request's deadline, reminders not yet done and ladder steps not
 * yet taken (those before the deadline).
 */
export function plannedTimers(approval: Approval): TimerPlan[] {
  if (approval.status !== "pending") return [];
  if (approval.effectiveGate === "low" && approval.objectionEndsAt)
    return [{ kind: "objection", dueAt: approval.objectionEndsAt }];
  if ((approval.effectiveGate === "medium" || approval.effectiveGate === "hard") && approval.deadlineAt) {
    const deadline = approval.deadlineAt.getTime();
    const reminders = reminderPlans(approval).filter((t) => t.dueAt.getTime() < deadline);
    return [{ kind: "deadline", dueAt: approval.deadlineAt }, ...reminders, ...escalationPlans(approval)];
  }
  return [];
}

/** A `low` request's window length in ms (older rows without it: from its provisional end). */
function windowMs(approval: Approval): number {
  if (approval.objectionSeconds !== null) return approval.objectionSeconds * 1000;
  return Math.max(
    0,
    (approval.objectionEndsAt?.getTime() ?? approval.createdAt.getTime()) - approval.createdAt.getTime(),
  );
}

/** By when a `low` request's notice must have been delivered, else it becomes `medium`. */
export function noticeDueBy(approval: Approval): Date {
  return new Date(approval.createdAt.getTime() + windowMs(approval));
}

/**
 * The approval once its first notice reached an eligible operator at `at`: the objection
 * window now counts from then. Unchanged when it is not a pending `low` request or a notice
 * was already delivered (the first delivery counts). The store applies the same rule in SQL.
 */
export function withNoticeDelivered(approval: Approval, at: Date): Approval {
  if (approval.status !== "pending" || approval.effectiveGate !== "low" || approval.noticeDeliveredAt) return approval;
  return { ...approval, noticeDeliveredAt: at, objectionEndsAt: new Date(at.getTime() + windowMs(approval)) };
}

/**
 * Whether this operator may answer this approval: holds any of its roles, or of the roles of
 * an escalation step already taken — their own, or delegated to them by an operator away.
 */
export function isEligible(approval: Approval, operator: Actor): boolean {
  const roles = approval.escalationLevel > 0 ? eligibleRoles(approval) : approval.approverRoles;
  const holds = (role: string) => roles.includes(role);
  return operator.roles.some(holds) || (operator.delegatedRoles?.some(holds) ?? false);
}

/**
 * Whether this operator's approval of the request does not count because a tool asked on their
 * behalf (`requestedBy`) and the request did not allow it. Only approving is barred: saying no
 * (reject, or asking for changes) is always safe, so a requester may still stop their own request.
 */
export function isSelfApproval(
  approval: Pick<Approval, "requestedBy" | "allowSelfApproval">,
  operator: string,
): boolean {
  return approval.requestedBy !== null && !approval.allowSelfApproval && approval.requestedBy === operator;
}

/** Apply one event to an approval. Pure: the caller stores the result with a compare-and-set. */
export function transition(approval: Approval, event: ApprovalEvent): TransitionResult {
  if (approval.status !== "pending") return { outcome: "ignored", reason: "already_decided", approval };
  switch (event.type) {
    case "cancel":
      return decided(approval, "cancelled", event.by, event.at, null, null);
    case "timer":
      return applyTimer(approval, event.kind, event.at);
    case "answer":
      return applyAnswer(approval, event);
    case "escalate":
      if (approval.effectiveGate !== "low") return { outcome: "ignored", reason: "timer_not_applicable", approval };
      if (event.reason === "notice_not_delivered") {
        // Seen after all (the delivery landed first), or the window's length has not passed yet.
        if (approval.noticeDeliveredAt) return { outcome: "ignored", reason: "timer_not_applicable", approval };
        if (event.at.getTime() + TIMER_TOLERANCE_MS < noticeDueBy(approval).getTime())
          return { outcome: "ignored", reason: "timer_not_due", approval };
      }
      {
        const deadlineAt = addSeconds(event.at, event.deadlineSeconds);
        return {
          outcome: "escalated",
          approval: {
            ...approval,
            effectiveGate: "medium",
            onTimeout: "deny",
            deadlineAt,
            // Counted from now: it has waited for a person only since this moment.
            remindAt: approval.remind ? reminderTimes(event.remindAt ?? [], event.at, deadlineAt) : [],
            remindersSent: 0,
            version: approval.version + 1,
          },
        };
      }
  }
}

function applyTimer(approval: Approval, kind: TimerKind, at: Date): TransitionResult {
  const plan = plannedTimers(approval).find((t) => t.kind === kind);
  if (!plan) return { outcome: "ignored", reason: "timer_not_applicable", approval };
  if (at.getTime() + TIMER_TOLERANCE_MS < plan.dueAt.getTime())
    return { outcome: "ignored", reason: "timer_not_due", approval };
  if (kind === "objection") {
    // Never approve what nobody saw: without a delivered notice the service escalates instead.
    if (!approval.noticeDeliveredAt) return { outcome: "ignored", reason: "notice_not_delivered", approval };
    return decided(approval, "approved", "objection-window", at, null, null);
  }
  const approve = approval.effectiveGate === "medium" && approval.onTimeout === "approve";
  return decided(approval, approve ? "approved" : "rejected", "timeout", at, null, null);
}

function applyAnswer(approval: Approval, event: Extract<ApprovalEvent, { type: "answer" }>): TransitionResult {
  if (!isEligible(approval, event.operator)) return { outcome: "ignored", reason: "not_eligible", approval };
  if (event.verdict === "approve" && isSelfApproval(approval, event.operator.name))
    return { outcome: "ignored", reason: "self_approval", approval };
  const note = event.note?.trim() ? event.note.trim() : null;
  if (event.verdict === "modify" && !note) return { outcome: "ignored", reason: "note_required", approval };
  const decision: Decision = {
    operator: event.operator.name,
    verdict: event.verdict,
    note,
    channel: event.channel,
    at: event.at,
  };
  if (event.verdict === "reject") return decided(approval, "rejected", event.operator.name, event.at, note, decision);
  if (event.verdict === "modify")
    return decided(approval, "changes_requested", event.operator.name, event.at, note, decision);

  // An approval: low needs one eligible voice; medium and hard need `quorum` distinct approvers.
  const needed = approval.effectiveGate === "low" ? 1 : approval.quorum;
  const already = approval.decisions.filter((d) => d.verdict === "approve");
  if (already.some((d) => d.operator === event.operator.name)) {
    return { outcome: "ignored", reason: "already_voted", approval };
  }
  const count = already.length + 1;
  if (count >= needed) return decided(approval, "approved", event.operator.name, event.at, note, decision);
  return {
    outcome: "vote_recorded",
    approval: { ...approval, decisions: [...approval.decisions, decision], version: approval.version + 1 },
    decision,
    approvals: count,
    quorum: needed,
  };
}

function decided(
  approval: Approval,
  status: Approval["status"],
  decidedBy: string,
  at: Date,
  note: string | null,
  decision: Decision | null,
): TransitionResult {
  return {
    outcome: "decided",
    decision,
    approval: {
      ...approval,
      status,
      decidedBy,
      decidedAt: at,
      note,
      decisions: decision ? [...approval.decisions, decision] : approval.decisions,
      version: approval.version + 1,
    },
  };
}

function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
