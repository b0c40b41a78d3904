/**
 * A web chat text event as the chat handler receives it, for handler tests: event and message
 * ids numbered by the caller so each event is new.
 */
import type { InboundText } from "../../src/domain/channel.js";

/** Text `text` from `chatId` (also the sender), the `n`th event of the test. */
export function webchatText(
  chatId: string,
  text: string,
  n: number,
  receivedAt: Date,
  replyToMessageId?: string,
): InboundText {
  return {
    kind: "text",
    channel: "webchat",
    chatId,
    sender: { id: chatId },
    eventId: `e${n}`,
    receivedAt,
    messageId: `m${n + 1}`,
    text,
    ...(replyToMessageId ? { replyToMessageId } : {}),
  };
}
