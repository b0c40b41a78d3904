/**
 * What the rest of signoff knows about WhatsApp: `*bold*` markup, JIDs, groups and sending limits.
 * Free of Baileys so the composition root and tests can read it without opening a socket.
 */
import type { PlatformFacts } from "../../domain/channel.js";

/** WhatsApp's JID of a phone number (digits only, with country code). */
export const whatsappJid = (phone: string) => `${phone}@s.whatsapp.net`;

/**
 * WhatsApp's facts. An operator is configured by phone digits; their chat is the phone-number
 * JID. Group JIDs end in "@g.us". WhatsApp bans accounts that look like bulk senders: about one
 * message a second overall, one per 3 s per chat, 10 a minute per group, each with up to 0.7 s
 * of random jitter.
 */
export const WHATSAPP_PLATFORM: PlatformFacts = {
  format: "whatsapp",
  isGroup: (chatId) => chatId.endsWith("@g.us"),
  chatIdOf: whatsappJid,
  // The phone from the chat's JID; failing that, the digits the sender id starts with.
  identityOf: ({ chatId, senderId }) =>
    /^(\d{6,16})(?:@s\.whatsapp\.net)?$/.exec(chatId)?.[1] ?? /^(\d{6,16})/.exec(senderId)?.[1],
  pacing: { globalPerSecond: 1, perChatIntervalMs: 3_000, groupPerMinute: 10, jitterMs: 700 },
};
