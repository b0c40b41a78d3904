/**
 * Pure mapping from Telegram updates to channel-agnostic {@link InboundEvent}s, kept apart from
 * the polling machinery so it can be tested with plain objects.
 */
import type { Chat, Update, User } from "grammy/types";
import type { InboundEvent, Sender } from "../../domain/channel.js";

/** Update types the adapter asks Telegram for; `message_reaction` is opt-in on Telegram's side. */
export const ALLOWED_UPDATES = ["message", "callback_query", "message_reaction"] as const;

/**
 * Maps one update to an inbound event, or `undefined` for updates signoff does not act on
 * (stickers, photos, custom-emoji-only reactions, inline-mode button presses, …).
 * Button events come without `answer`; the channel attaches it.
 *
 * @example toInboundEvent({ update_id: 7, message: { text: "status", … } }, new Date())
 * // { kind: "text", eventId: "tg:7", text: "status", … }
 */
export function toInboundEvent(update: Update, receivedAt: Date): InboundEvent | undefined {
  const eventId = `tg:${update.update_id}`;
  // What every event carries: where, who, which update, and the message it concerns.
  const base = (chat: Chat, from: User | undefined, fallback: Chat, messageId: number) => ({
    channel: "telegram" as const,
    chatId: String(chat.id),
    sender: toSender(from, fallback),
    eventId,
    receivedAt,
    messageId: String(messageId),
  });
  const message = update.message;
  if (message?.text !== undefined) {
    const replyTo = message.reply_to_message?.message_id;
    return {
      ...base(message.chat, message.from, message.sender_chat ?? message.chat, message.message_id),
      kind: "text",
      // Commands such as "/status@signoff_bot" pass through untouched; handlers strip them.
      text: message.text,
      ...(replyTo === undefined ? {} : { replyToMessageId: String(replyTo) }),
    };
  }
  const reaction = update.message_reaction;
  if (reaction) {
    const emoji = reaction.new_reaction.find((r) => r.type === "emoji");
    // A custom-emoji or paid reaction carries no emoji we understand; ignoring it is better
    // than reporting it as a removal.
    if (reaction.new_reaction.length > 0 && !emoji) return undefined;
    return {
      ...base(reaction.chat, reaction.user, reaction.actor_chat ?? reaction.chat, reaction.message_id),
      kind: "reaction",
      emoji: emoji?.type === "emoji" ? emoji.emoji : "",
    };
  }
  const query = update.callback_query;
  // Presses on inline-mode messages have no chat; signoff never posts such messages.
  if (query?.data !== undefined && query.message) {
    return {
      ...base(query.message.chat, query.from, query.message.chat, query.message.message_id),
      kind: "button",
      data: query.data,
    };
  }
  return undefined;
}

/** A Telegram user id is also the id of their private chat, which is what config refers to. */
function toSender(user: User | undefined, fallback: Chat): Sender {
  if (!user) return { id: String(fallback.id), displayName: fallback.title ?? fallback.first_name };
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return { id: String(user.id), displayName: name || user.username };
}
