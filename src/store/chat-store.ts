/**
 * Chat bookkeeping: which inbound events were already handled (once-only processing) and which
 * sent message shows which approval (so replies and reactions find their card).
 */
import type { ChannelName, MessageRef } from "../domain/channel.js";
import { type Database, many, maybeOne } from "./db.js";

/** A sent message that shows an approval: its card, notice or advisory. */
export interface CardRef extends MessageRef {
  approvalId: string;
  kind: "card" | "notice" | "advisory";
}

/** Inbound dedupe and card references. */
export function createChatStore(db: Database) {
  return {
    /** Claim an inbound event; false when it was already claimed (a redelivery). */
    async claimInbound(channel: ChannelName, eventId: string): Promise<boolean> {
      const result = await db.pool.query(
        "INSERT INTO processed_messages (channel, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [channel, eventId],
      );
      return result.rowCount === 1;
    },
    async saveCardRef(ref: CardRef): Promise<void> {
      await db.pool.query(
        `INSERT INTO card_refs (channel, chat_id, message_id, approval_id, kind) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (channel, chat_id, message_id) DO UPDATE SET approval_id = EXCLUDED.approval_id, kind = EXCLUDED.kind`,
        [ref.channel, ref.chatId, ref.messageId, ref.approvalId, ref.kind],
      );
    },
    /** Which approval a message shows, if any. */
    async findCardRef(ref: MessageRef): Promise<CardRef | null> {
      const row = await maybeOne<{ approval_id: string; kind: CardRef["kind"] }>(
        db.pool,
        "SELECT approval_id, kind FROM card_refs WHERE channel = $1 AND chat_id = $2 AND message_id = $3",
        [ref.channel, ref.chatId, ref.messageId],
      );
      return row ? { ...ref, approvalId: row.approval_id, kind: row.kind } : null;
    },
    /** Every message showing this approval, on every channel. */
    async listCardRefs(approvalId: string): Promise<CardRef[]> {
      const rows = await many<{ channel: ChannelName; chat_id: string; message_id: string; kind: CardRef["kind"] }>(
        db.pool,
        "SELECT channel, chat_id, message_id, kind FROM card_refs WHERE approval_id = $1 ORDER BY created_at",
        [approvalId],
      );
      return rows.map((r) => ({ channel: r.channel, chatId: r.chat_id, messageId: r.message_id, kind: r.kind, approvalId }));
    },
  };
}

/** The chat store's interface, for injection. */
export type ChatStore = ReturnType<typeof createChatStore>;
