/**
 * Re-create from PostgreSQL everything Redis might have lost: the timer of every pending
 * approval, every delivery not yet made, and the card or notice of a pending approval that no
 * chat shows yet (or that a web chat lost with a restart). Safe to run in several processes at
 * once (job ids are deterministic) and as often as wanted.
 */
import type { Approval, TimerKind } from "../domain/approval.js";
import type { Channel, ChannelName } from "../domain/channel.js";
import { isEligible, plannedTimers } from "../handlers/approvals/approval-machine.js";
import type { EnqueueOutbox } from "../domain/outbox.js";
import type { OperatorDirectory } from "../handlers/chat/operators.js";
import type { ApprovalStore } from "../store/approval-store.js";
import type { CardRef } from "../store/chat-store.js";
import type { DeliveryStore } from "../store/delivery-store.js";

/** What the reconciler re-created. */
export interface ReconcileReport {
  pendingApprovals: number;
  timersEnsured: number;
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
}

/** Walk pending approvals and deliveries and make sure each has its job. */
export async function reconcile(deps: {
  approvals: Pick<ApprovalStore, "listPending">;
  deliveries: Pick<DeliveryStore, "listPending">;
  timers: { ensure(approvalId: string, kind: TimerKind, dueAt: Date): Promise<void> };
  deliveryQueue: { ensure(deliveryId: string): Promise<void> };
  cards?: ReconcileCards;
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
  const shown = deps.cards ? await showLostCards(pending, deps.cards) : { reannounced: 0, reposted: 0 };
  return { pendingApprovals: pending.length, timersEnsured, deliveriesEnsured: deliveries.length, ...shown };
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
  for (const approval of pending) {
    const refs = await cards.listCardRefs(approval.id);
    const announcement = approval.effectiveGate === "low" ? "notice" : "card";
    if (refs.length === 0) {
      await cards.announce(approval, announcement);
      reannounced++;
      continue;
    }
    if (!cards.channels || !cards.directory || !cards.enqueue) continue;
    for (const chat of lostChats(refs, cards.channels)) {
      // Only to the operator who still reads that chat and may still answer.
      const reader = cards.directory.byChat(chat.channel, chat.chatId);
      if (!reader || !isEligible(approval, reader)) continue;
      await cards.enqueue({
        op: "announce",
        approvalId: approval.id,
        announcement,
        channel: chat.channel,
        chatId: chat.chatId,
        operator: reader.name,
      });
      reposted++;
    }
  }
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
