/** The fake Bot API's public types: recorded calls, chat messages, options, failure envelopes. */
import type { InlineKeyboardMarkup, Update } from "grammy/types";
import type { Params } from "./fake-bot-api-wire.js";
import type { RateLimits } from "./fake-flood-limits.js";

/** One API call as the fake saw it; `status` 0 means the connection was dropped on purpose. */
export interface FakeCall {
  method: string;
  params: Params;
  at: number;
  status: number;
  response: unknown;
  /**
   * Which bot instance made the call, when several share the fake (and one token): the first
   * path segment of an `apiRoot` such as `${fake.apiRoot}/a` (see {@link FakeBotApi.apiRootFor}).
   */
  client?: string;
}

/** A message in a fake chat, with its latest text and keyboard after edits. */
export interface FakeMessage {
  chatId: number;
  messageId: number;
  from: "bot" | "user";
  fromId: number;
  text: string;
  parseMode?: string;
  replyMarkup?: InlineKeyboardMarkup;
  replyToMessageId?: number;
  /** Emoji the bot set on this message with setMessageReaction (empty when none). */
  botReactions: string[];
  /** Emoji each user set, by user id (from userReacts). */
  userReactions: Record<number, string[]>;
  edits: number;
  date: number;
}

export type { RateLimits } from "./fake-flood-limits.js";

/** A Telegram error envelope to answer with, or "network" to drop the connection. */
export type FailureResponse =
  | "network"
  | { error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };

export interface FakeBotApiOptions {
  /** @defaultValue a fixed, token-shaped test value */
  token?: string;
  /** @defaultValue "signoff_test_bot" */
  botUsername?: string;
  /** Partial overrides, or `false` to switch limits off. */
  limits?: Partial<RateLimits> | false;
}

/** What a user-side helper queued. */
export interface PushedUpdate {
  update: Update;
  updateId: number;
  messageId?: number;
  callbackQueryId?: string;
}

/** A 429 envelope as Telegram sends it. */
export const tooManyRequests = (retryAfter: number): FailureResponse => ({
  error_code: 429,
  description: `Too Many Requests: retry after ${retryAfter}`,
  parameters: { retry_after: retryAfter },
});
/** The 403 Telegram answers when the user blocked the bot. */
export const botBlocked: FailureResponse = { error_code: 403, description: "Forbidden: bot was blocked by the user" };
