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
  const message = update.message;
  if (message?.text !== undefined) {
    const replyTo = message.reply_to_message?.message_id;
    return {
      channel: "telegram",
      kind: "text",
      chatId: String(message.chat.id),
      sender: toSender(message.from, message.sender_chat ?? message.chat),
      eventId,
      receivedAt,
      messageId: String(message.message_id),
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
      channel: "telegram",
      kind: "reaction",
      chatId: String(reaction.chat.id),
      sender: toSender(reaction.user, reaction.actor_chat ?? reaction.chat),
      eventId,
      receivedAt,
      messageId: String(reaction.message_id),
      emoji: emoji?.type === "emoji" ? emoji.emoji : "",
    };
  }
  const query = update.callback_query;
  // Presses on inline-mode messages have no chat; signoff never posts such messages.
  if (query?.data !== undefined && query.message) {
    return {
      channel: "telegram",
      kind: "button",
      chatId: String(query.message.chat.id),
      sender: toSender(query.from, query.message.chat),
      eventId,
      receivedAt,
      messageId: String(query.message.message_id),
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
