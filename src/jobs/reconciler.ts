/**
 * Re-create from PostgreSQL everything Redis might have lost: the timer of every pending
 * approval, every delivery not yet made, and the card or notice of a pending approval that no
 * chat shows yet (or that a web chat lost with a restart). Safe to run in several processes at
 * once (job ids are deterministic) and as often as wanted.
 */
import type { Approval } from "../domain/approval.js";
import type { Channel, ChannelName } from "../domain/channel.js";
import { isEligible, plannedTimers } from "../handlers/approvals/approval-machine.js";
import type { EnqueueOutbox } from "../domain/outbox.js";
import type { OperatorDirectory } from "../handlers/chat/operators.js";
import type { ApprovalStore } from "../store/approval-store.js";
import type { CardRef } from "../store/chat-store.js";
import type { DeliveryStore } from "../store/delivery-store.js";
import type { PendingPages } from "../store/pending-pages.js";
import type { TimerQueueScheduler } from "./timer-queue.js";

/** What the reconciler re-created. */
export interface ReconcileReport {
  pendingApprovals: number;
  timersEnsured: number;
  /** Of those, the ones whose job was lost, failed or finished, and was re-created. */
  timersRecreated: number;
  deliveriesEnsured: number;
  /** Pending approvals no chat showed, announced again everywhere. */
  reannounced: number;
  /** Chats that lost a pending card with a restart (in-memory channels) and got it again. */
  reposted: number;
}

/** What re-showing cards needs; the last three only for channels that keep messages in memory. */
export interface ReconcileCards {
  listCardRefs(approvalId: string): Promise<Array<Pick<CardRef, "channel" | "chatId" | "messageId">>>;
  /** Announce to every eligible chat on every channel (queued with a deterministic id). */
  announce(approval: Approval, announcement: "card" | "notice"): Promise<void>;
  /** The running channels; those with `knows` lost their messages if the process restarted. */
  channels?: ReadonlyMap<ChannelName, Pick<Channel, "knows">>;
  directory?: Pick<OperatorDirectory, "byChat">;
  enqueue?: EnqueueOutbox;
  /**
   * Resolves once the messages queued so far went out. Channels that deliver in process queue
   * them in memory, so the walk waits for each page's before the next: memory holds one page.
   */
  settle?: () => Promise<void>;
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
 * Walk pending approvals and deliveries page by page and make sure each has its job. A page's
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
  };
  for await (const page of approvalPages(deps)) {
    report.pendingApprovals += page.length;
    const timers = page.flatMap((approval) =>
      plannedTimers(approval).map((timer) => ({ approvalId: approval.id, kind: timer.kind, dueAt: timer.dueAt })),
    );
    report.timersRecreated += await deps.timers.ensureAll(timers);
    report.timersEnsured += timers.length;
    if (deps.cards) {
      const shown = await showLostCards(page, deps.cards);
      report.reannounced += shown.reannounced;
      report.reposted += shown.reposted;
      if (shown.reannounced + shown.reposted > 0) await deps.cards.settle?.();
    }
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

/**
 * Show again every pending approval that lost its cards: one no chat shows is announced as
 * when it was created; a chat of an in-memory channel whose card is from before this run gets
 * a new card, only there. Idempotent: the new card is one its channel knows, so the next run
 * leaves it alone; the old reference stays, and edits of it do nothing.
 */
export async function showLostCards(
  pending: readonly Approval[],
  cards: ReconcileCards,
): Promise<{ reannounced: number; reposted: number }> {
  let reannounced = 0;
  let reposted = 0;
  // Concurrently: the card references of a page are read in a few batched queries, not one each.
  await Promise.all(
    pending.map(async (approval) => {
      const refs = await cards.listCardRefs(approval.id);
      const announcement = approval.effectiveGate === "low" ? "notice" : "card";
      if (refs.length === 0) {
        await cards.announce(approval, announcement);
        reannounced++;
        return;
      }
      const { channels, directory, enqueue } = cards;
      if (!channels || !directory || !enqueue) return;
      const reposts = lostChats(refs, channels).flatMap((chat) => {
        // Only to the operator who still reads that chat and may still answer.
        const reader = directory.byChat(chat.channel, chat.chatId);
        if (!reader || !isEligible(approval, reader)) return [];
        return [
          enqueue({
            op: "announce",
            approvalId: approval.id,
            announcement,
            channel: chat.channel,
            chatId: chat.chatId,
            operator: reader.name,
          }),
        ];
      });
      await Promise.all(reposts);
      reposted += reposts.length;
    }),
  );
  return { reannounced, reposted };
}

/** Chats of in-memory channels that showed the approval, none of it in this run. */
function lostChats(
  refs: Array<Pick<CardRef, "channel" | "chatId" | "messageId">>,
  channels: ReadonlyMap<ChannelName, Pick<Channel, "knows">>,
) {
  const byChat = new Map<string, { channel: ChannelName; chatId: string; known: boolean }>();
  for (const ref of refs) {
    const channel = channels.get(ref.channel);
    if (!channel?.knows) continue;
    const key = `${ref.channel}\u0000${ref.chatId}`;
    const chat = byChat.get(key) ?? { channel: ref.channel, chatId: ref.chatId, known: false };
    chat.known ||= channel.knows(ref);
    byChat.set(key, chat);
  }
  return [...byChat.values()].filter((chat) => !chat.known);
}
