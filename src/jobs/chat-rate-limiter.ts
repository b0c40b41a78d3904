/**
 * Send-slot reservations for outbound chat messages, kept in Redis so every signoff process
 * books from one calendar. Telegram's limits: ≤ 30 messages/s overall, ≤ 1 message/s
 * per chat, ≤ 20 messages/min per group. The caller reserves a slot when it queues a message and
 * delays the job by the returned wait; slots for one chat come out in call order, so messages
 * to a chat keep their order.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { defineScripts } from "./redis/scripts.js";

/** Options of {@link createChatRateLimiter}. */
export interface ChatRateLimiterOptions {
  /** Key prefix, e.g. `${queuePrefix}:telegram-rate`; one calendar per prefix. */
  prefix: string;
  /**
   * Messages per second over all chats. Slots are spread evenly, ⌈1000 / n⌉ ms apart, which
   * keeps every 1 s window at ≤ n without bursts at window edges. @defaultValue 30
   */
  globalPerSecond?: number;
  /** Minimum time between two messages to one chat. @defaultValue 1000 */
  perChatIntervalMs?: number;
  /** Messages per sliding minute to one group chat. @defaultValue 20 */
  groupPerMinute?: number;
}

/** Reserves send slots; see {@link createChatRateLimiter}. */
export interface ChatRateLimiter {
  /**
   * Books the earliest slot that respects every limit for a message to `chatKey` and returns
   * the ms to wait before sending it (0 = now). `now` (ms) is for tests; by default the Redis
   * server's clock is used so processes with skewed clocks still agree.
   */
  reserve(chatKey: string, isGroup: boolean, now?: number): Promise<number>;
  /**
   * After a 429: no slot for `chatKey` (or, with `global`, for any chat) before
   * now + `retryAfterMs`. Slots already handed out are not moved.
   */
  penalize(chatKey: string, retryAfterMs: number, options?: { global?: boolean; now?: number }): Promise<void>;
}

const GROUP_WINDOW_MS = 60_000;

/** The limiter's Redis commands (KEYS and ARGV in each .lua header). */
interface RateLimitCommands {
  /** chat-rate-limiter-reserve.lua: ms until the booked slot. */
  signoffRateReserve(
    global: string,
    pause: string,
    chat: string,
    group: string,
    now: number | "",
    gapMs: number,
    perChatIntervalMs: number,
    groupMax: number,
    groupWindowMs: number,
    slotId: string,
  ): Promise<number>;
  /** chat-rate-limiter-penalize.lua */
  signoffRatePenalize(
    chat: string,
    pause: string,
    now: number | "",
    retryAfterMs: number,
    global: "1" | "0",
  ): Promise<number>;
}

/**
 * Creates a limiter over one Redis connection (a plain command connection, not a subscriber).
 * Each call is one Lua script (see `redis/scripts.ts`).
 *
 * @example
 * const limiter = createChatRateLimiter(producer, { prefix: `${prefix}:telegram-rate` });
 * const wait = await limiter.reserve(chatId, chatId.startsWith("-"));
 * await queue.add("send", job, { delay: wait });
 * // on a 429 with retry_after = 7: await limiter.penalize(chatId, 7000);
 */
export function createChatRateLimiter(connection: Redis, options: ChatRateLimiterOptions): ChatRateLimiter {
  const globalPerSecond = options.globalPerSecond ?? 30;
  const perChatIntervalMs = options.perChatIntervalMs ?? 1000;
  const groupPerMinute = options.groupPerMinute ?? 20;
  if (!(globalPerSecond > 0) || !(perChatIntervalMs >= 0) || !(groupPerMinute >= 1)) {
    throw new Error(
      "chat rate limiter: globalPerSecond > 0, perChatIntervalMs >= 0 and groupPerMinute >= 1 are required",
    );
  }
  const gapMs = Math.ceil(1000 / globalPerSecond);
  const key = (...parts: string[]) => [options.prefix, ...parts].join(":");
  const redis = defineScripts<RateLimitCommands>(connection, {
    signoffRateReserve: { file: new URL("./chat-rate-limiter-reserve.lua", import.meta.url), numberOfKeys: 4 },
    signoffRatePenalize: { file: new URL("./chat-rate-limiter-penalize.lua", import.meta.url), numberOfKeys: 2 },
  });

  return {
    async reserve(chatKey, isGroup, now) {
      const wait = await redis.signoffRateReserve(
        key("global"),
        key("pause"),
        key("chat", chatKey),
        key("group", chatKey),
        now ?? "",
        gapMs,
        perChatIntervalMs,
        isGroup ? groupPerMinute : 0,
        GROUP_WINDOW_MS,
        randomUUID(),
      );
      return Math.max(0, Number(wait));
    },

    async penalize(chatKey, retryAfterMs, penalty = {}) {
      if (!(retryAfterMs > 0)) return;
      await redis.signoffRatePenalize(
        key("chat", chatKey),
        key("pause"),
        penalty.now ?? "",
        Math.ceil(retryAfterMs),
        penalty.global ? "1" : "0",
      );
    },
  };
}
