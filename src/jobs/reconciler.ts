/**
 * Re-create from PostgreSQL everything Redis might have lost: the timer of every pending
 * approval, every delivery not yet made, and the card or notice of a pending approval that no
 * chat shows yet. Safe to run in several processes at once (job ids are deterministic) and as
 * often as wanted.
 */
import type { Approval, TimerKind } from "../domain/approval.js";
import { plannedTimers } from "../handlers/approval-machine.js";
import type { ApprovalStore } from "../store/approval-store.js";
import type { DeliveryStore } from "../store/delivery-store.js";

/** What the reconciler re-created. */
export interface ReconcileReport {
  pendingApprovals: number;
  timersEnsured: number;
  deliveriesEnsured: number;
  reannounced: number;
}

/** Walk pending approvals and deliveries and make sure each has its job. */
export async function reconcile(deps: {
  approvals: Pick<ApprovalStore, "listPending">;
  deliveries: Pick<DeliveryStore, "listPending">;
  timers: { ensure(approvalId: string, kind: TimerKind, dueAt: Date): Promise<void> };
  deliveryQueue: { ensure(deliveryId: string): Promise<void> };
  /** Cards already shown, and how to show a pending approval again (queued with a deterministic id). */
  cards?: { listCardRefs(approvalId: string): Promise<unknown[]>; announce(approval: Approval, announcement: "card" | "notice"): Promise<void> };
}): Promise<ReconcileReport> {
  const pending = await deps.approvals.listPending();
  let timersEnsured = 0;
  for (const approval of pending) {
    for (const timer of plannedTimers(approval)) {
      await deps.timers.ensure(approval.id, timer.kind, timer.dueAt);
      timersEnsured++;
    }
  }
  const deliveries = await deps.deliveries.listPending();
  for (const delivery of deliveries) await deps.deliveryQueue.ensure(delivery.id);
  let reannounced = 0;
  if (deps.cards) {
    for (const approval of pending) {
      if ((await deps.cards.listCardRefs(approval.id)).length > 0) continue;
      await deps.cards.announce(approval, approval.effectiveGate === "low" ? "notice" : "card");
      reannounced++;
    }
  }
  return { pendingApprovals: pending.length, timersEnsured, deliveriesEnsured: deliveries.length, reannounced };
}

/**
 * Reconcile again every `everyMs`: a timer or delivery whose job failed for good, or was lost
 * with Redis while this process ran, is re-created from PostgreSQL. Returns a stop function.
 */
export function reconcileEvery(everyMs: number, deps: Parameters<typeof reconcile>[0], logger: { warn(obj: object, msg?: string): void }): () => void {
  const timer = setInterval(() => {
    reconcile(deps).catch((err) => logger.warn({ err: (err as Error).message }, "periodic reconcile failed"));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
