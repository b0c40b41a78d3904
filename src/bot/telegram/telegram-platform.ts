/**
 * What the rest of signoff knows about Telegram: HTML markup, chat ids, groups and sending limits.
 * Free of grammY so the composition root and tests can read it without building a bot.
 */
import type { PlatformFacts } from "../../domain/channel.js";

/**
 * Telegram's facts. An operator's configured identity is their user id, which is also their
 * private chat's id; group chat ids start with "-". Limits: at most 30 messages a second
 * overall, one a second per chat, 20 a minute per group. Slots are booked 35 ms apart (29/s)
 * and 1.1 s per chat: the margin absorbs a few ms of send jitter, so the platform never counts
 * 31 in a second.
 */
export const TELEGRAM_PLATFORM: PlatformFacts = {
  format: "html",
  isGroup: (chatId) => chatId.startsWith("-"),
  chatIdOf: (userId) => userId,
  identityOf: ({ senderId }) => senderId,
  pacing: { globalPerSecond: 29, perChatIntervalMs: 1_100, groupPerMinute: 20 },
};
