/**
 * Send-slot reservations for outbound chat messages, kept in Redis so every signoff process
 * books from one calendar. Telegram's limits: ≤ 30 messages/s overall, ≤ 1 message/s
 * per chat, ≤ 20 messages/min per group. The caller reserves a slot when it queues a message and
 * delays the job by the returned wait; slots for one chat come out in call order, so messages
 * to a chat keep their order.
 */
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

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

/** Both scripts start here: ARGV[1] is "now" in ms, or "" to use the Redis server's clock. */
const NOW_LUA = `
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

const RESERVE_LUA = NOW_LUA + readFileSync(new URL("./chat-rate-limiter.lua", import.meta.url), "utf8");

/*
 * Penalize: push a "not before" time later, never earlier.
 * KEYS[1] chat's next free time; KEYS[2] global pause (only read when ARGV[3] = "1")
 * ARGV[1] now in ms or "" for the Redis clock; ARGV[2] retry-after ms; ARGV[3] "1" = global too
 */
const PENALIZE_LUA = `${NOW_LUA}
local wait = tonumber(ARGV[2])
local untilMs = now + wait
local last = 1
if ARGV[3] == '1' then last = 2 end
for i = 1, last do
  local current = tonumber(redis.call('GET', KEYS[i]) or 0)
  if untilMs > current then redis.call('SET', KEYS[i], untilMs, 'PX', wait + 1000) end
end
return 1`;

/**
 * Creates a limiter over one Redis connection (a plain command connection, not a subscriber).
 * Each call is one Lua script, run by SHA after the first time.
 *
 * @example
 * const limiter = createChatRateLimiter(producer, { prefix: `${prefix}:telegram-rate` });
 * const wait = await limiter.reserve(chatId, chatId.startsWith("-"));
 * await queue.add("send", job, { delay: wait });
 * // on a 429 with retry_after = 7: await limiter.penalize(chatId, 7000);
 */
export function createChatRateLimiter(redis: Redis, options: ChatRateLimiterOptions): ChatRateLimiter {
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
  const reserveScript = luaScript(RESERVE_LUA);
  const penalizeScript = luaScript(PENALIZE_LUA);

  return {
    async reserve(chatKey, isGroup, now) {
      const wait = await reserveScript(
        redis,
        [key("global"), key("pause"), key("chat", chatKey), key("group", chatKey)],
        [now ?? "", gapMs, perChatIntervalMs, isGroup ? groupPerMinute : 0, GROUP_WINDOW_MS, randomUUID()],
      );
      return Math.max(0, Number(wait));
    },

    async penalize(chatKey, retryAfterMs, penalty = {}) {
      if (!(retryAfterMs > 0)) return;
      await penalizeScript(
        redis,
        [key("chat", chatKey), key("pause")],
        [penalty.now ?? "", Math.ceil(retryAfterMs), penalty.global ? "1" : "0"],
      );
    },
  };
}

type ScriptRunner = (redis: Redis, keys: string[], args: Array<string | number>) => Promise<unknown>;

/** EVALSHA, falling back to EVAL (which caches the script) when Redis does not know it yet. */
function luaScript(lua: string): ScriptRunner {
  const sha = createHash("sha1").update(lua).digest("hex");
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}
