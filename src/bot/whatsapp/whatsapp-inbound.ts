/**
 * Turns one Baileys message (from a `messages.upsert` of type `notify`) into an
 * {@link InboundEvent}, or says why it is dropped: status updates, broadcasts, newsletters,
 * groups, our own echoes, protocol messages and content other than text or a reaction.
 *
 * Identity: the sender id is the phone-number JID (`64211234567@s.whatsapp.net`, which is also
 * the chat id cards are sent to), with the LID (`…@lid`) in `altIds` when WhatsApp addressed the
 * message by LID. A LID whose phone number is unknown stays the id (such a sender is a stranger
 * until WhatsApp reveals the mapping).
 */
import {
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
  normalizeMessageContent,
  type WAMessage,
} from "@whiskeysockets/baileys";
import type { InboundEvent } from "../../domain/channel.js";

/** What a conversion needs besides the message. */
export interface InboundContext {
  receivedAt: Date;
  /** Phone-number JID of a LID, when Baileys knows it (`signalRepository.lidMapping.getPNForLID`). */
  pnForLid?: ((lid: string) => Promise<string | null | undefined>) | undefined;
}

/** The event, or why the message was dropped (for debug logs and tests). */
export type InboundConversion = { event: InboundEvent } | { dropped: string };

/** The event id of a WhatsApp message: `wa:<message id>`. */
export const whatsappEventId = (messageId: string) => `wa:${messageId}`;

/** Phone JID and LID of a one-to-one chat's other party. */
async function identify(
  remoteJid: string,
  alt: string | undefined,
  ctx: InboundContext,
): Promise<{ pn?: string; lid?: string } | null> {
  if (isLidUser(remoteJid)) {
    const lid = jidNormalizedUser(remoteJid);
    let pn = alt && isPnUser(alt) ? jidNormalizedUser(alt) : undefined;
    if (!pn && ctx.pnForLid) {
      const found = await ctx.pnForLid(lid).catch(() => null);
      if (found && isPnUser(found)) pn = jidNormalizedUser(found);
    }
    return pn ? { pn, lid } : { lid };
  }
  if (isPnUser(remoteJid)) {
    const pn = jidNormalizedUser(remoteJid);
    return alt && isLidUser(alt) ? { pn, lid: jidNormalizedUser(alt) } : { pn };
  }
  return null;
}

/**
 * Converts one message. Text comes from `conversation` or `extendedTextMessage.text` (with the
 * quoted message's id, `contextInfo.stanzaId`, as `replyToMessageId`); a `reactionMessage`
 * becomes a reaction on the message it names (an empty emoji: the reaction was removed).
 *
 * @example
 * const result = await toInboundEvent(msg, { receivedAt: new Date() });
 * if ("event" in result) await onInbound(result.event);
 */
export async function toInboundEvent(msg: WAMessage, ctx: InboundContext): Promise<InboundConversion> {
  const key = msg.key;
  const remoteJid = key?.remoteJid ?? undefined;
  const messageId = key?.id ?? undefined;
  if (!remoteJid || !messageId) return { dropped: "no chat or message id" };
  if (key.fromMe) return { dropped: "our own message" };
  if (isJidStatusBroadcast(remoteJid) || isJidBroadcast(remoteJid) || msg.broadcast)
    return { dropped: "status or broadcast" };
  if (isJidNewsletter(remoteJid)) return { dropped: "newsletter" };
  if (isJidGroup(remoteJid)) return { dropped: "group chat" };

  const content = normalizeMessageContent(msg.message);
  if (!content) return { dropped: "no content" };
  if (content.protocolMessage) return { dropped: "protocol message" };

  const who = await identify(remoteJid, key.remoteJidAlt, ctx);
  if (!who) return { dropped: "not a user chat" };
  const id = (who.pn ?? who.lid)!;
  const sender = {
    id,
    ...(who.pn && who.lid ? { altIds: [who.lid] } : {}),
    ...(msg.pushName ? { displayName: msg.pushName } : {}),
  };
  const base = {
    channel: "whatsapp" as const,
    chatId: id,
    sender,
    eventId: whatsappEventId(messageId),
    receivedAt: ctx.receivedAt,
  };

  const reaction = content.reactionMessage;
  if (reaction) {
    const target = reaction.key?.id;
    if (!target) return { dropped: "reaction without a target" };
    return { event: { ...base, kind: "reaction", messageId: target, emoji: reaction.text ?? "" } };
  }

  const extended = content.extendedTextMessage;
  const text = content.conversation ?? extended?.text ?? undefined;
  if (typeof text !== "string" || text.trim() === "") return { dropped: "no text" };
  const replyTo = extended?.contextInfo?.stanzaId ?? undefined;
  return { event: { ...base, kind: "text", messageId, text, ...(replyTo ? { replyToMessageId: replyTo } : {}) } };
}
