/**
 * Chat bookkeeping: which inbound events were already handled (once-only processing) and which
 * sent message shows which approval (so replies and reactions find their card).
 */
import type { ChannelName, MessageRef } from "../domain/channel.js";
import { createBatcher } from "../lib/batcher.js";
import { withTimeout } from "../lib/with-timeout.js";
import { type Database, many, maybeOne } from "./db.js";

/** A sent message that shows an approval: its card, notice or advisory. */
export interface CardRef extends MessageRef {
  approvalId: string;
  kind: "card" | "notice" | "advisory";
}

/** Longest a lookup waits for this process's write of the same reference (a slow database must not hold a chat). */
const SAVE_WAIT_MS = 2_000;

/** One sent message, as a map key. */
const refKey = (r: MessageRef) => `${r.channel}|${r.chatId}|${r.messageId}`;

/** Inbound dedupe and card references. */
export function createChatStore(db: Database) {
  // Card writes and reads happen once per card per decision; batching keeps them cheap under load.
  const saveBatch = createBatcher<CardRef, void>(
    async (refs) => {
      await db.pool.query(
        `INSERT INTO card_refs (channel, chat_id, message_id, approval_id, kind)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[])
       ON CONFLICT (channel, chat_id, message_id) DO UPDATE SET approval_id = EXCLUDED.approval_id, kind = EXCLUDED.kind`,
        [
          refs.map((r) => r.channel),
          refs.map((r) => r.chatId),
          refs.map((r) => r.messageId),
          refs.map((r) => r.approvalId),
          refs.map((r) => r.kind),
        ],
      );
      return refs.map(() => undefined);
    },
    { keyOf: refKey },
  );
  // Every inbound message claims its id; under load one statement claims many. The same id twice
  // never shares a batch (keyOf), so "claimed" is unambiguous per caller.
  const claimBatch = createBatcher<{ channel: ChannelName; eventId: string }, boolean>(
    async (events) => {
      const claimed = await many<{ channel: string; event_id: string }>(
        db.pool,
        `INSERT INTO processed_messages (channel, event_id) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT DO NOTHING RETURNING channel, event_id`,
        [events.map((e) => e.channel), events.map((e) => e.eventId)],
        "signoff_claim_inbound",
      );
      const won = new Set(claimed.map((r) => `${r.channel}|${r.event_id}`));
      return events.map((e) => won.has(`${e.channel}|${e.eventId}`));
    },
    { keyOf: (e) => `${e.channel}|${e.eventId}` },
  );
  const listBatch = createBatcher<string, CardRef[]>(
    async (approvalIds) => {
      const rows = await many<{
        approval_id: string;
        channel: ChannelName;
        chat_id: string;
        message_id: string;
        kind: CardRef["kind"];
      }>(
        db.pool,
        "SELECT approval_id, channel, chat_id, message_id, kind FROM card_refs WHERE approval_id = ANY($1::uuid[]) ORDER BY created_at",
        [[...new Set(approvalIds)]],
        "signoff_list_card_refs",
      );
      return approvalIds.map((id) =>
        rows
          .filter((r) => r.approval_id === id)
          .map((r) => ({
            channel: r.channel,
            chatId: r.chat_id,
            messageId: r.message_id,
            kind: r.kind,
            approvalId: id,
          })),
      );
    },
    { gather: true },
  );
  // A card is on screen a moment before its reference is written; a reply or reaction that quick
  // waits for that write instead of finding nothing.
  const savesInFlight = new Map<string, Promise<void>>();
  return {
    /** Claim an inbound event; false when it was already claimed (a redelivery). */
    claimInbound: (channel: ChannelName, eventId: string): Promise<boolean> => claimBatch({ channel, eventId }),
    saveCardRef(ref: CardRef): Promise<void> {
      const key = refKey(ref);
      const saved: Promise<void> = saveBatch(ref).finally(() => {
        if (savesInFlight.get(key) === saved) savesInFlight.delete(key);
      });
      savesInFlight.set(key, saved);
      return saved;
    },
    /** Which approval a message shows, if any (after this process's write of it, when one is in flight). */
    async findCardRef(ref: MessageRef): Promise<CardRef | null> {
      const saving = savesInFlight.get(refKey(ref));
      if (saving) await withTimeout(saving, SAVE_WAIT_MS).catch(() => undefined);
      const row = await maybeOne<{ approval_id: string; kind: CardRef["kind"] }>(
        db.pool,
        "SELECT approval_id, kind FROM card_refs WHERE channel = $1 AND chat_id = $2 AND message_id = $3",
        [ref.channel, ref.chatId, ref.messageId],
      );
      return row ? { ...ref, approvalId: row.approval_id, kind: row.kind } : null;
    },
    /** Every message showing this approval, on every channel. */
    listCardRefs: (approvalId: string): Promise<CardRef[]> => listBatch(approvalId),
  };
}

/** The chat store's interface, for injection. */
export type ChatStore = ReturnType<typeof createChatStore>;
