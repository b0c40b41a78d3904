/**
 * The contract between everything that wants a chat message sent and the outbox that sends it
 * (queued in Redis for paced platforms, delivered in process for the web chat).
 */
import type { Announcement, Approval } from "./approval.js";
import type { ChannelName, MessageRef } from "./channel.js";

/** What a stored message of an approval is: its card, its notice, or an advisory. */
export type CardKind = "card" | "notice" | "advisory";

/**
 * How a message meets its reader's quiet hours: `silent` sends it now without a sound,
 * `heldUntil` (epoch ms) keeps it in the outbox until their quiet hours end.
 */
export interface QuietDelivery {
  silent?: boolean;
  heldUntil?: number;
}

/** Work the outbox performs, one send or edit pass per job. */
export type OutboxJob =
  | ({
      op: "announce";
      approvalId: string;
      announcement: Exclude<Announcement, null>;
      channel: ChannelName;
      chatId: string;
      operator?: string;
    } & QuietDelivery)
  | {
      op: "edit";
      approvalId: string;
      version: number;
      ref: MessageRef & { kind: CardKind };
      /** The approval as committed, for in-process channels only (queued jobs re-read it). */
      snapshot?: Approval;
    }
  | ({ op: "text"; channel: ChannelName; chatId: string; text: string; replyToMessageId?: string } & QuietDelivery);

/** Queues outbox jobs (BullMQ in production). */
export type EnqueueOutbox = (job: OutboxJob) => Promise<void>;
