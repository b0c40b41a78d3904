/**
 * Re-create from PostgreSQL everything Redis might have lost: the timer of every pending
 * approval, every delivery not yet made, and the card or notice of a pending approval that no
 * chat shows yet (or that a web chat lost with a restart). Safe to run in several processes at
 * once (a timer is one member per approval and kind; delivery job ids are deterministic) and
 * as often as wanted.
 */
import type { Approval } from "../domain/approval.js";
import { plannedTimers } from "../handlers/approvals/approval-machine.js";
import type { ApprovalStore } from "../store/approval-store.js";
import type { DeliveryStore } from "../store/delivery-store.js";
import type { PendingPages } from "../store/pending-pages.js";
import { type ReconcileCards, walkLostCards } from "./lost-cards.js";
import type { TimerQueueScheduler } from "./timer-queue.js";

export { type ReconcileCards, showLostCards } from "./lost-cards.js";

/** What the reconciler re-created. */
export interface ReconcileReport {
  pendingApprovals: number;
  timersEnsured: number;
  /** Of those, the ones Redis had lost (or that had failed for good), added again. */
  timersRecreated: number;
  deliveriesEnsured: number;
  /** Pending approvals no chat showed, announced again everywhere. */
  reannounced: number;
  /** Cards posted again in chats that lost them with a restart (in-memory channels). */
  reposted: number;
  /** Restarted chats told in one line of the pending cards they did not get back. */
  summarised: number;
}

/** Pending approvals (and deliveries) per page of the walk; each page's calls go out together. */
const PAGE_SIZE = 1000;

/** What a reconcile reads and re-creates. */
export interface ReconcileDeps {
  approvals: Pick<ApprovalStore, "listPending" | "get">;
  deliveries: Pick<DeliveryStore, "listPending">;
  /**
   * Keyset pages of pending ids: the walk then holds one page at a time. Without them every
   * pending approval and delivery is read at once (memory grows with the backlog).
   */
  pages?: PendingPages;
  /** Checks a page of timers at once and re-creates only the ones lost, failed or finished. */
  timers: Pick<TimerQueueScheduler, "ensureAll">;
  deliveryQueue: { ensure(deliveryId: string): Promise<void> };
  cards?: ReconcileCards;
  /** @defaultValue 1000 */
  pageSize?: number;
}

/**
 * Walk pending approvals and deliveries page by page and make sure each has its timer or job. A page's
 * timers, cards and deliveries are ensured concurrently, so their Redis calls share round trips
 * (the queues' connection pipelines them) instead of one round trip after another.
 */
export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    pendingApprovals: 0,
    timersEnsured: 0,
    timersRecreated: 0,
    deliveriesEnsured: 0,
    reannounced: 0,
    reposted: 0,
    summarised: 0,
  };
  const lost = deps.cards && walkLostCards(deps.cards);
  for await (const page of approvalPages(deps)) {
    report.pendingApprovals += page.length;
    const timers = page.flatMap((approval) =>
      plannedTimers(approval).map((timer) => ({ approvalId: approval.id, kind: timer.kind, dueAt: timer.dueAt })),
    );
    report.timersRecreated += await deps.timers.ensureAll(timers);
    report.timersEnsured += timers.length;
    if (lost) {
      const shown = await lost.page(page);
      report.reannounced += shown.reannounced;
      report.reposted += shown.reposted;
      if (shown.reannounced + shown.reposted > 0) await deps.cards?.settle?.();
    }
  }
  // Restarted chats get their newest lost cards once the walk saw every pending approval.
  if (lost) {
    const shown = await lost.finish();
    report.reposted += shown.reposted;
    report.summarised += shown.summarised;
    if (shown.reposted + shown.summarised > 0) await deps.cards?.settle?.();
  }
  for await (const ids of deliveryPages(deps)) {
    await Promise.all(ids.map((id) => deps.deliveryQueue.ensure(id)));
    report.deliveriesEnsured += ids.length;
  }
  return report;
}

/** Pending approvals a page at a time: keyset pages when given, else one read cut into pages. */
async function* approvalPages(deps: ReconcileDeps): AsyncGenerator<Approval[]> {
  const size = deps.pageSize ?? PAGE_SIZE;
  if (!deps.pages) return yield* slices(await deps.approvals.listPending(), size);
  for await (const ids of keysetPages(deps.pages.pendingApprovalIds, size)) {
    const approvals = await Promise.all(ids.map((id) => deps.approvals.get(id)));
    // Decided since the page was read: it needs no timer and no card.
    yield approvals.filter((a): a is Approval => a?.status === "pending");
  }
}

/** Ids of deliveries still to make, a page at a time. */
async function* deliveryPages(deps: ReconcileDeps): AsyncGenerator<string[]> {
  const size = deps.pageSize ?? PAGE_SIZE;
  if (!deps.pages)
    return yield* slices(
      (await deps.deliveries.listPending()).map((d) => d.id),
      size,
    );
  yield* keysetPages(deps.pages.pendingDeliveryIds, size);
}

/** Pages of ids, each read after the last id of the one before, until one comes back empty. */
async function* keysetPages(
  read: (afterId: string | null, limit: number) => Promise<string[]>,
  size: number,
): AsyncGenerator<string[]> {
  for (let after: string | null = null; ; ) {
    const ids = await read(after, size);
    if (ids.length === 0) return;
    after = ids.at(-1)!;
    yield ids;
  }
}

function* slices<T>(all: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
}
