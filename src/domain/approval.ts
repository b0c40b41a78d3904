/**
 * The approval domain: the record sources ask for and operators answer.
 * Types only; the rules live in `src/handlers/approvals/approval-machine.ts`.
 */
import { ruleIdOfDecider } from "./standing-rule.js";

/** Risk gates , from "just do it" to "never". */
export const GATES = ["auto", "low", "medium", "hard", "prohibited"] as const;
export type Gate = (typeof GATES)[number];

/** Lifecycle of a request; everything but `pending` is terminal. */
export const APPROVAL_STATUSES = ["pending", "approved", "rejected", "changes_requested", "cancelled"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** An operator as the approval rules see them: a name and roles. */
export interface Actor {
  name: string;
  roles: readonly string[];
  /**
   * Roles held for operators away who named this one their delegate: eligibility only (they
   * answer approvals for them), never commands. Still one person, one vote.
   */
  delegatedRoles?: readonly string[] | undefined;
}

/** How a new request is announced to operators. */
export type Announcement = "card" | "notice" | "advisory" | "auto_notice" | null;

/** What an operator said about a request. */
export type Verdict = "approve" | "reject" | "modify";

/** One operator's answer, kept even when it did not (yet) end the request (quorum votes). */
export interface Decision {
  operator: string;
  verdict: Verdict;
  note: string | null;
  channel: string;
  at: Date;
}

/** The approval as stored in PostgreSQL and returned by the API. */
export interface Approval {
  id: string;
  /** Short typeable code shown on cards, e.g. `K7QF`. Unique among pending requests. */
  code: string;
  source: string;
  title: string;
  reason: string | null;
  agent: string | null;
  /** The gate the source asked for. */
  gate: Gate;
  /** The gate that applies: `auto`/`low` become `medium` while signoff is paused. */
  effectiveGate: Gate;
  preview: string | null;
  status: ApprovalStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
  onTimeout: "approve" | "deny";
  /** Roles whose members may answer; an operator needs any one of them. */
  approverRoles: string[];
  quorum: number;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  metadata: Record<string, unknown> | null;
  /** Whether operators asked to be told of an `auto` approval at once. */
  notify: boolean;
  /** A stable machine key for what is asked (`deploy:staging`, a tool name such as `Bash`). */
  action: string | null;
  /** What exactly will run, any JSON value as the source sent it; meaningful only with `payloadSha256`. */
  payload: unknown;
  /** Hex SHA-256 of the payload's canonical JSON (RFC 8785); null when no payload was sent. */
  payloadSha256: string | null;
  /** The operator on whose behalf a tool asks: their own approval does not count by default. */
  requestedBy: string | null;
  /** Whether `requestedBy` may approve this request themselves. */
  allowSelfApproval: boolean;
  decisions: Decision[];
  createdAt: Date;
  /** When `medium`/`hard` requests time out; null for gates without a deadline. */
  deadlineAt: Date | null;
  /**
   * When a `low` request proceeds unless someone objects; null otherwise. Counted from the
   * delivery of its first notice, so it moves later when that delivery is late.
   */
  objectionEndsAt: Date | null;
  /** Length of a `low` request's objection window, in seconds; null for other gates. */
  objectionSeconds: number | null;
  /** When the first notice of a `low` request reached an eligible operator; null until then. */
  noticeDeliveredAt: Date | null;
  /** Whether the request wants reminders (`remind: false` turns them off). */
  remind: boolean;
  /** When its approvers who have not answered are reminded; fixed at creation, oldest first. */
  remindAt: Date[];
  /** How many of `remindAt` are done (sent, or passed while a later one was sent). */
  remindersSent: number;
  /** The escalation ladder: unanswered `afterSeconds` after creation, each step's roles may answer too. */
  escalation: EscalationStep[];
  /** How many steps of `escalation` were taken. */
  escalationLevel: number;
  /** Optimistic-concurrency counter; every stored change bumps it. */
  version: number;
}

/**
 * One rung of an escalation ladder: still undecided `afterSeconds` after creation, operators
 * holding any of `roles` may answer too and get the card.
 */
export interface EscalationStep {
  afterSeconds: number;
  roles: string[];
}

/**
 * When a request reminds its approvers: `share` of the way from creation to the deadline
 * (0.5 = half time), or `seconds` before the deadline.
 */
export type ReminderPoint = { kind: "share"; share: number } | { kind: "before"; seconds: number };

/**
 * The timers an approval can have; at most one of each kind at a time: its objection
 * window or deadline, its n-th reminder (`remind-0`), the n-th step of its ladder (`escalate-0`).
 */
export type TimerKind = "objection" | "deadline" | `remind-${number}` | `escalate-${number}`;

/** Default roles allowed to answer when a request names none. */
export const DEFAULT_APPROVER_ROLES: readonly string[] = ["approver", "owner"];

/** The approval record (dates as ISO strings), used by the API and callbacks. */
export function toApprovalRecord(approval: Approval): Record<string, unknown> {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: approval.id,
    code: approval.code,
    source: approval.source,
    title: approval.title,
    reason: approval.reason,
    agent: approval.agent,
    gate: approval.gate,
    effectiveGate: approval.effectiveGate,
    preview: approval.preview,
    status: approval.status,
    decidedBy: approval.decidedBy,
    decidedAt: iso(approval.decidedAt),
    note: approval.note,
    onTimeout: approval.onTimeout,
    approvers: {
      roles: approval.approverRoles,
      quorum: approval.quorum,
      escalate: approval.escalation.map((step) => ({ afterSeconds: step.afterSeconds, roles: [...step.roles] })),
      escalationLevel: approval.escalationLevel,
    },
    remind: approval.remind,
    decisions: approval.decisions.map((d) => ({
      operator: d.operator,
      verdict: d.verdict,
      note: d.note,
      channel: d.channel,
      at: d.at.toISOString(),
    })),
    metadata: approval.metadata,
    idempotencyKey: approval.idempotencyKey,
    action: approval.action,
    payload: approval.payloadSha256 === null ? null : approval.payload,
    payloadSha256: approval.payloadSha256,
    // The standing rule that approved it (decidedBy `rule:R12`); absent otherwise.
    ...(ruleIdOfDecider(approval.decidedBy) !== null ? { ruleId: ruleIdOfDecider(approval.decidedBy) } : {}),
    requestedBy: approval.requestedBy,
    allowSelfApproval: approval.allowSelfApproval,
    createdAt: approval.createdAt.toISOString(),
    deadlineAt: iso(approval.deadlineAt),
    objectionEndsAt: iso(approval.objectionEndsAt),
    noticeDeliveredAt: iso(approval.noticeDeliveredAt),
  };
}
