/**
 * What a change to an approval writes beside it, in the same statement: its audit entries and
 * its signed callback. Pure: the approval service decides when, these say what.
 */
import { type Approval, toApprovalRecord } from "../../domain/approval.js";
import type { StandingRule } from "../../domain/standing-rule.js";
import type { NewDelivery } from "../../store/approval-store.js";
import type { AuditEntry } from "../../store/audit-store.js";
import type { ApprovalEvent, TransitionResult } from "./approval-machine.js";
import type { LifecycleResult } from "./lifecycle-timers.js";
import { ruleUsedEntry } from "./rules.js";

/** The callback a decided approval owes its source (none while pending, or without a URL). */
export function callbackFor(approval: Approval): NewDelivery | null {
  if (!approval.callbackUrl || approval.status === "pending") return null;
  return {
    kind: "callback",
    subjectId: approval.id,
    url: approval.callbackUrl,
    body: JSON.stringify(toApprovalRecord(approval)),
  };
}

/**
 * A new request's entries: created (with what it asked to run, so the trail binds a decision to
 * its payload) and, when it was born decided (auto, prohibited, a standing rule), decided too.
 */
export function creationEntries(
  approval: Approval,
  source: string,
  paused: boolean,
  rule: StandingRule | null,
): AuditEntry[] {
  const entries: AuditEntry[] = [
    {
      actor: source,
      action: "approval.created",
      subject: approval.id,
      at: approval.createdAt,
      data: {
        code: approval.code,
        title: approval.title,
        gate: approval.gate,
        effectiveGate: approval.effectiveGate,
        paused,
        ...(approval.action !== null ? { action: approval.action } : {}),
        ...(approval.payloadSha256 !== null ? { payloadSha256: approval.payloadSha256 } : {}),
        ...(approval.requestedBy !== null ? { requestedBy: approval.requestedBy } : {}),
      },
    },
  ];
  if (approval.status !== "pending") {
    entries.push({
      actor: approval.decidedBy ?? "policy",
      action: "approval.decided",
      subject: approval.id,
      at: approval.createdAt,
      data: { status: approval.status, decidedBy: approval.decidedBy ?? "policy" },
    });
    if (rule) entries.push(ruleUsedEntry(rule, approval));
  }
  return entries;
}

/**
 * The entry of a transition the machine made (`result` is not `ignored`): a vote, an escalation
 * or the decision. `subject` is the approval id as the caller named it.
 */
export function transitionEntry(
  subject: string,
  result: Exclude<TransitionResult, { outcome: "ignored" }>,
  event: ApprovalEvent,
  auditActor: string,
): AuditEntry {
  const at = event.at;
  if (result.outcome === "vote_recorded")
    return {
      actor: auditActor,
      action: "approval.vote",
      subject,
      at,
      data: { verdict: "approve", approvals: result.approvals, quorum: result.quorum },
    };
  if (result.outcome === "escalated") {
    const reason = event.type === "escalate" ? event.reason : "paused";
    return {
      actor: reason === "paused" ? "pause" : "policy",
      action: "approval.escalated",
      subject,
      at,
      data: { effectiveGate: "medium", deadlineAt: result.approval.deadlineAt!.toISOString(), reason },
    };
  }
  const next = result.approval;
  return {
    actor: next.decidedBy ?? auditActor,
    action: next.status === "cancelled" ? "approval.cancelled" : "approval.decided",
    subject,
    at,
    data: {
      status: next.status,
      decidedBy: next.decidedBy,
      note: next.note,
      channel: result.decision?.channel ?? null,
      event: event.type,
    },
  };
}

/** The entry of a reminder sent or a ladder step taken at `at`; `subject` as in {@link transitionEntry}. */
export function lifecycleEntry(
  subject: string,
  result: Exclude<LifecycleResult, { outcome: "ignored" }>,
  at: Date,
): AuditEntry {
  if (result.outcome === "reminded")
    return {
      actor: "policy",
      action: "approval.reminded",
      subject,
      at,
      data: { reminder: result.approval.remindersSent },
    };
  return {
    actor: "policy",
    action: "approval.escalated",
    subject,
    at,
    data: { reason: "unanswered", step: result.level, roles: result.steps.flatMap((step) => step.roles) },
  };
}
