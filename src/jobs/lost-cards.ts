/**
 * Cards a pending approval lost, shown again by the reconcile. An approval no chat shows is
 * announced as when it was created. A chat of a channel that keeps its messages in memory (the
 * web chat) lost every card with a restart, but it can only show so many: it gets back the
 * newest pending cards (at most what it keeps, {@link REPOSTS_PER_CHAT} by default) and one line
 * for the rest, once per run. The rest stay answerable by their code and listed by `pending`.
 */
import type { Announcement, Approval } from "../domain/approval.js";
import type { Channel, ChannelMemory, ChannelName } from "../domain/channel.js";
import type { EnqueueOutbox } from "../domain/outbox.js";
import { isEligible } from "../handlers/approvals/approval-machine.js";
import type { OperatorDirectory } from "../handlers/chat/operators.js";
import type { Renderer } from "../handlers/chat/render.js";
import type { CardRef } from "../store/chat-store.js";

/** Cards a restarted chat gets back at most (fewer when it keeps fewer messages). */
export const REPOSTS_PER_CHAT = 50;

/** What re-showing cards needs; all but the first two only for channels that keep messages in memory. */
export interface ReconcileCards {
  listCardRefs(approvalId: string): Promise<Array<Pick<CardRef, "channel" | "chatId" | "messageId">>>;
  /** Announce to every eligible chat on every channel (queued with a deterministic id). */
  announce(approval: Approval, announcement: "card" | "notice"): Promise<void>;
  /** The running channels; those with `knows` lost their messages if the process restarted. */
  channels?: ReadonlyMap<ChannelName, Pick<Channel, "knows" | "memory">>;
  directory?: Pick<OperatorDirectory, "byChat">;
  enqueue?: EnqueueOutbox;
  /** Renders the one line for the pending cards a restarted chat does not get back; without it, no line. */
  renderer?: Pick<Renderer, "render" | "formatOf">;
  /**
   * Resolves once the messages queued so far went out. Channels that deliver in process queue
   * them in memory, so the walk waits for each page's before the next: memory holds one page.
   */
  settle?: () => Promise<void>;
  /** @defaultValue {@link REPOSTS_PER_CHAT} */
  repostsPerChat?: number;
}

/** What showing lost cards did. */
export interface LostCardsReport {
  /** Pending approvals no chat showed, announced again everywhere. */
  reannounced: number;
  /** Cards posted again in chats that lost them. */
  reposted: number;
  /** Chats told in one line how many more are pending than they got back. */
  summarised: number;
}

/** A card a restarted chat may get back. */
interface Candidate {
  approvalId: string;
  createdAt: number;
  announcement: Exclude<Announcement, null>;
  operator: string;
}

/** One restarted chat during a walk: the newest cards it lost (at most `limit`) and how many it lost. */
interface LostChat {
  channel: ChannelName;
  chatId: string;
  memory: ChannelMemory;
  newest: Candidate[];
  lost: number;
}

const newestFirst = (a: Candidate, b: Candidate) =>
  b.createdAt - a.createdAt || (a.approvalId < b.approvalId ? 1 : a.approvalId > b.approvalId ? -1 : 0);

/**
 * Lost cards over a walk in pages: {@link LostCardsWalk.page} for each page of pending
 * approvals, then {@link LostCardsWalk.finish} once. Memory holds at most `repostsPerChat`
 * candidates per restarted chat, however long the backlog.
 */
export interface LostCardsWalk {
  page(pending: readonly Approval[]): Promise<LostCardsReport>;
  finish(): Promise<LostCardsReport>;
}

/** Start a walk over pending approvals that re-shows their lost cards (see the module comment). */
export function walkLostCards(cards: ReconcileCards): LostCardsWalk {
  const chats = new Map<string, LostChat>();
  const { channels, directory, enqueue } = cards;

  /** Keep the approval among the chat's newest lost cards, dropping older ones past the limit. */
  const offer = (chat: LostChat, candidate: Candidate) => {
    chat.lost++;
    chat.newest.push(candidate);
    const limit = repostLimit(chat.memory, cards.repostsPerChat);
    // Sorted only when twice the limit accumulated: amortised, and never more than 2 × limit held.
    if (chat.newest.length > Math.max(2 * limit, 1)) chat.newest = chat.newest.sort(newestFirst).slice(0, limit);
  };

  return {
    async page(pending) {
      const report: LostCardsReport = { reannounced: 0, reposted: 0, summarised: 0 };
      // Concurrently: the card references of a page are read in a few batched queries, not one each.
      await Promise.all(
        pending.map(async (approval) => {
          const refs = await cards.listCardRefs(approval.id);
          const announcement: "card" | "notice" = approval.effectiveGate === "low" ? "notice" : "card";
          if (refs.length === 0) {
            await cards.announce(approval, announcement);
            report.reannounced++;
            return;
          }
          if (!channels || !directory || !enqueue) return;
          const reposts: Array<Promise<void>> = [];
          for (const lost of lostChats(refs, channels)) {
            if (lost.memory?.caughtUp.has(lost.chatId)) continue;
            // Only to the operator who still reads that chat and may still answer.
            const reader = directory.byChat(lost.channel, lost.chatId);
            if (!reader || !isEligible(approval, reader)) continue;
            const candidate = { approvalId: approval.id, createdAt: approval.createdAt.getTime(), announcement };
            if (lost.memory) {
              const key = `${lost.channel}\u0000${lost.chatId}`;
              const chat = chats.get(key) ?? { ...lost, memory: lost.memory, newest: [], lost: 0 };
              chats.set(key, chat);
              offer(chat, { ...candidate, operator: reader.name });
              continue;
            }
            reposts.push(enqueue(announceJob(lost, { ...candidate, operator: reader.name })));
          }
          await Promise.all(reposts);
          report.reposted += reposts.length;
        }),
      );
      return report;
    },

    async finish() {
      const report: LostCardsReport = { reannounced: 0, reposted: 0, summarised: 0 };
      if (!enqueue) return report;
      for (const chat of chats.values()) {
        // Another walk may have caught this chat up meanwhile: once per run.
        if (chat.memory.caughtUp.has(chat.chatId)) continue;
        chat.memory.caughtUp.add(chat.chatId);
        const shown = chat.newest.sort(newestFirst).slice(0, repostLimit(chat.memory, cards.repostsPerChat));
        try {
          // Oldest first, so the newest card ends up at the bottom, where the chat opens.
          for (const candidate of shown.reverse()) await enqueue(announceJob(chat, candidate));
          report.reposted += shown.length;
          const more = chat.lost - shown.length;
          if (more > 0 && cards.renderer) {
            const text = cards.renderer.render("pending-more", cards.renderer.formatOf(chat.channel), {
              count: more.toLocaleString("en-US"),
              shown: shown.length,
            });
            await enqueue({ op: "text", channel: chat.channel, chatId: chat.chatId, text });
            report.summarised++;
          }
        } catch (error) {
          chat.memory.caughtUp.delete(chat.chatId); // the next reconcile tries this chat again
          throw error;
        }
      }
      chats.clear();
      return report;
    },
  };
}

/**
 * Show again every pending approval of `pending` that lost its cards, in one go (a walk of one
 * page). Idempotent: a re-posted card is one its channel knows, and a restarted chat is caught
 * up once per run; the old references stay, and edits of them do nothing.
 */
export async function showLostCards(
  pending: readonly Approval[],
  cards: ReconcileCards,
): Promise<{ reannounced: number; reposted: number }> {
  const walk = walkLostCards(cards);
  const first = await walk.page(pending);
  const last = await walk.finish();
  return { reannounced: first.reannounced + last.reannounced, reposted: first.reposted + last.reposted };
}

const repostLimit = (memory: ChannelMemory, perChat = REPOSTS_PER_CHAT) => Math.max(0, Math.min(memory.keeps, perChat));

function announceJob(chat: { channel: ChannelName; chatId: string }, candidate: Candidate) {
  return {
    op: "announce" as const,
    approvalId: candidate.approvalId,
    announcement: candidate.announcement,
    channel: chat.channel,
    chatId: chat.chatId,
    operator: candidate.operator,
  };
}

/** Chats of in-memory channels that showed the approval, none of it in this run. */
function lostChats(
  refs: Array<Pick<CardRef, "channel" | "chatId" | "messageId">>,
  channels: ReadonlyMap<ChannelName, Pick<Channel, "knows" | "memory">>,
) {
  const byChat = new Map<
    string,
    { channel: ChannelName; chatId: string; known: boolean; memory: ChannelMemory | undefined }
  >();
  for (const ref of refs) {
    const channel = channels.get(ref.channel);
    if (!channel?.knows) continue;
    const key = `${ref.channel}\u0000${ref.chatId}`;
    const chat = byChat.get(key) ?? { channel: ref.channel, chatId: ref.chatId, known: false, memory: channel.memory };
    chat.known ||= channel.knows(ref);
    byChat.set(key, chat);
  }
  return [...byChat.values()].filter((chat) => !chat.known);
}
