/**
 * What the approval service is given to reach beyond PostgreSQL: timers in Redis, the chat side
 * that shows approvals, and whoever watches them (log lines, metrics). Implemented elsewhere and
 * injected by the composition root.
 */
import type { Announcement, Approval, Decision, TimerKind } from "../../domain/approval.js";

/** Schedules and removes the timers of an approval (one per kind; scheduling again moves it). */
export interface TimerScheduler {
  schedule(approvalId: string, kind: TimerKind, dueAt: Date): Promise<void>;
  cancel(approvalId: string, kind: TimerKind): Promise<void>;
}

/** What the chat side is told about approvals (it queues cards, notices and edits). */
export interface ApprovalPresenter {
  /** `only`: just these operators (those an escalation step made eligible). */
  announce(approval: Approval, announcement: Exclude<Announcement, null>, only?: readonly string[]): Promise<void>;
  /** A decision or vote happened: refresh every card of this approval. */
  refresh(approval: Approval): Promise<void>;
  /** Remind the approvers who owe this request an answer. */
  remind(approval: Approval): Promise<number>;
}

/**
 * Told of every approval this process creates or decides (log lines, metrics). Called after the
 * commit; whatever it does, and whether it throws, changes nothing about the approval.
 */
export interface ApprovalObserver {
  created(approval: Approval): void;
  /** It left `pending`; `decision` is the operator's answer that ended it, null for policy and timers. */
  decided(approval: Approval, decision: Decision | null): void;
}
