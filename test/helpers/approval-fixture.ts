/**
 * Approvals for tests, built without the approval machine: the values a request gets for every
 * field it leaves out, and a pending request made of them.
 */
import type { Approval } from "../../src/domain/approval.js";

type RequestDefaultField =
  | "reason"
  | "agent"
  | "preview"
  | "note"
  | "approverRoles"
  | "quorum"
  | "callbackUrl"
  | "idempotencyKey"
  | "metadata"
  | "notify"
  | "action"
  | "payload"
  | "payloadSha256"
  | "requestedBy"
  | "allowSelfApproval"
  | "remind"
  | "escalation"
  | "decisions";

/** What a new approval holds for each field its request left out (restated, not read from the machine). */
export function requestDefaults(): Pick<Approval, RequestDefaultField> {
  return {
    reason: null,
    agent: null,
    preview: null,
    note: null,
    approverRoles: ["approver", "owner"],
    quorum: 1,
    callbackUrl: null,
    idempotencyKey: null,
    metadata: null,
    notify: false,
    action: null,
    payload: null,
    payloadSha256: null,
    requestedBy: null,
    allowSelfApproval: false,
    remind: true,
    escalation: [],
    decisions: [],
  };
}

/** A pending `medium` request "Deploy to production" from forge, every optional field null, then `overrides`. */
export function approvalFixture(overrides: Partial<Approval> = {}): Approval {
  return {
    id: "7f0c2a8e-4b1d-4c3e-9a5f-0d6e1b2c3a4f",
    code: "K7QF",
    source: "forge",
    title: "Deploy to production",
    gate: "medium",
    effectiveGate: "medium",
    status: "pending",
    decidedBy: null,
    decidedAt: null,
    onTimeout: "deny",
    ...requestDefaults(),
    createdAt: new Date("2030-01-01T00:00:00Z"),
    deadlineAt: new Date("2030-01-01T04:00:00Z"),
    objectionEndsAt: null,
    objectionSeconds: null,
    noticeDeliveredAt: null,
    remindAt: [],
    remindersSent: 0,
    escalationLevel: 0,
    version: 1,
    ...overrides,
  };
}
