/**
 * A reminder or escalation step fell due: count it with a compare-and-set (so it counts once
 * however often its timer fires), then remind whoever owes an answer, or show the card to the
 * operators the step made eligible and edit the cards already shown. Decided: nothing.
 */
import type { Actor } from "../../domain/approval.js";
import type { ApprovalStore } from "../../store/approval-store.js";
import { notFound, tooMuchContention } from "./approval-errors.js";
import { lifecycleEntry } from "./approval-records.js";
import type { ApprovalPresenter } from "./approval-service.js";
import { newlyEligible } from "./escalation.js";
import { type LifecycleResult, type LifecycleTimerKind, applyLifecycleTimer } from "./lifecycle-timers.js";

/** Injected dependencies of {@link createLifecycleStep}: the approval service's own, narrowed. */
export interface LifecycleStepDeps {
  approvals: Pick<ApprovalStore, "get" | "commitTransition">;
  presenter: ApprovalPresenter;
  /** Every operator, to find whom an escalation step made eligible. */
  operators: { all?(): readonly Actor[] };
  now: () => Date;
  /** A step after the commit failed (recoverable, so it is only logged). */
  logPostCommit(err: unknown, approvalId: string, what: string): void;
  /** Compare-and-set tries before giving up as busy. */
  maxAttempts: number;
}

/** Build the function that takes one reminder or ladder step of an approval. */
export function createLifecycleStep(deps: LifecycleStepDeps) {
  return async function stepLifecycle(approvalId: string, kind: LifecycleTimerKind): Promise<LifecycleResult> {
    for (let attempt = 0; attempt < deps.maxAttempts; attempt++) {
      const current = await deps.approvals.get(approvalId);
      if (!current) throw notFound(approvalId);
      const at = deps.now();
      const result = applyLifecycleTimer(current, kind, at);
      if (result.outcome === "ignored") return result;
      const audit = lifecycleEntry(approvalId, result, at);
      const stored = await deps.approvals.commitTransition(result.approval, current.version, null, [audit], null);
      if (!stored.committed) continue; // answered or stepped meanwhile: re-read, re-decide
      if (result.outcome === "reminded") {
        await deps.presenter
          .remind(result.approval)
          .catch((err) => deps.logPostCommit(err, approvalId, "reminder not sent"));
        return result;
      }
      const added = newlyEligible(current, result.approval, deps.operators.all?.() ?? []).map((op) => op.name);
      await deps.presenter
        .refresh(result.approval)
        .catch((err) => deps.logPostCommit(err, approvalId, "card refresh failed"));
      if (added.length > 0)
        await deps.presenter
          .announce(result.approval, "card", added)
          .catch((err) => deps.logPostCommit(err, approvalId, "announce failed"));
      return result;
    }
    throw tooMuchContention(approvalId);
  };
}
