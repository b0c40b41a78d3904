/**
 * The chat rate limiter against the real Redis: each test books from its own key prefix, with a
 * fixed `now` so slot times are exact, and deletes its keys afterwards.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createChatRateLimiter, type ChatRateLimiter } from "../../src/jobs/chat-rate-limiter.js";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const GAP = 34; // ⌈1000 / 30⌉

let redis: Redis;
let other: Redis;
let prefix: string;
let limiter: ChatRateLimiter;
let t0: number;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  other = new Redis(REDIS_URL);
});
afterAll(async () => {
  await Promise.all([redis.quit(), other.quit()]);
});
beforeEach(() => {
  prefix = `test-rl-${randomUUID()}`;
  limiter = createChatRateLimiter(redis, { prefix });
  t0 = Date.now();
});
afterEach(async () => {
  await deleteKeysWithPrefix(redis, prefix);
});

/** The most slots any window [x, x + windowMs) holds; windows starting at a slot suffice. */
function busiestWindow(slots: number[], windowMs: number): number {
  const sorted = [...slots].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] ?? 0) < (sorted[i] ?? 0) + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

describe("per chat", () => {
  it("gives one chat one slot per second, in call order, and does not hold up other chats", async () => {
    const waits = await Promise.all(Array.from({ length: 5 }, () => limiter.reserve("111", false, t0)));
    expect(waits, "slots for one chat must be 1 s apart, in the order reserve was called").toEqual([
      0, 1000, 2000, 3000, 4000,
    ]);
    // Another chat is only kept off the global gap around chat 111's slot at t0.
    expect(await limiter.reserve("222", false, t0)).toBe(GAP);
    // Time passing frees the chat again.
    expect(await limiter.reserve("111", false, t0 + 10_000)).toBe(0);
  });

  it("uses the Redis clock when no time is given", async () => {
    const first = await limiter.reserve("111", false);
    const second = await limiter.reserve("111", false);
    expect(first).toBe(0);
    expect(second).toBeGreaterThan(900);
    expect(second).toBeLessThanOrEqual(1000);
  });
});

describe("globally", () => {
  it("keeps every 1 s window at ≤ 30 for a notice to 600 chats and uses the budget (≈ 20 s)", async () => {
    const waits = await Promise.all(
      Array.from({ length: 600 }, (_, i) => limiter.reserve(String(1000 + i), false, t0)),
    );
    const slots = waits.map((w) => t0 + w);
    expect(new Set(slots).size, "two chats got the same slot").toBe(600);
    expect(busiestWindow(slots, 1000)).toBe(30);
    const span = Math.max(...waits) - Math.min(...waits);
    expect(span).toBeGreaterThanOrEqual(19_000);
    expect(span).toBeLessThanOrEqual(20_500);
    expect(waits, "slots go out in call order when every chat is fresh").toEqual([...waits].sort((a, b) => a - b));
  });

  it("fills a hole between future slots booked for other chats instead of queueing behind them", async () => {
    // chat A holds t0, t0+1000, t0+2000; B, C then land between them.
    for (let i = 0; i < 3; i++) await limiter.reserve("A", false, t0);
    expect(await limiter.reserve("B", false, t0 + 500)).toBe(0);
    expect(await limiter.reserve("C", false, t0 + 990)).toBe(1000 + GAP - 990);
  });

  it("never double-books a slot when two processes (two connections) reserve at once", async () => {
    const second = createChatRateLimiter(other, { prefix });
    const chats = Array.from({ length: 30 }, (_, i) => (i % 5 === 0 ? `-100${i}` : String(500 + i)));
    const booked = await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        const chat = chats[i % chats.length] ?? "";
        const wait = await (i % 2 === 0 ? limiter : second).reserve(chat, chat.startsWith("-"), t0);
        return { chat, slot: t0 + wait };
      }),
    );
    const slots = booked.map((b) => b.slot).sort((a, b) => a - b);
    expect(new Set(slots).size, "a slot was handed out twice").toBe(slots.length);
    const gaps = slots.slice(1).map((s, i) => s - (slots[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(GAP);
    for (const chat of chats) {
      const mine = booked
        .filter((b) => b.chat === chat)
        .map((b) => b.slot)
        .sort((a, b) => a - b);
      const spacing = mine.slice(1).map((s, i) => s - (mine[i] ?? 0));
      expect(Math.min(...spacing), `chat ${chat} got two slots within 1 s`).toBeGreaterThanOrEqual(1000);
      if (chat.startsWith("-"))
        expect(busiestWindow(mine, 60_000), `group ${chat} over 20/min`).toBeLessThanOrEqual(20);
    }
  });
});

describe("groups", () => {
  it("allows 20 messages per sliding minute to a group, then waits for the oldest to leave the window", async () => {
    const waits: number[] = [];
    for (let i = 0; i < 23; i++) waits.push(await limiter.reserve("-1001234", true, t0));
    expect(waits.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i * 1000));
    expect(waits.slice(20)).toEqual([60_000, 61_000, 62_000]);
    expect(busiestWindow(waits, 60_000)).toBe(20);
    // A private chat is not held to the group limit.
    const dm: number[] = [];
    for (let i = 0; i < 23; i++) dm.push(await limiter.reserve("4242", false, t0 + 100_000));
    expect(dm[22]).toBe(22_000);
  });
});

describe("after a 429", () => {
  it("pushes the chat's next slot by retry_after, and everyone's when the penalty is global", async () => {
    await limiter.penalize("111", 7000, { now: t0 });
    expect(await limiter.reserve("111", false, t0)).toBe(7000);
    expect(await limiter.reserve("222", false, t0)).toBe(0);
    // A shorter penalty later never pulls the chat's next slot earlier.
    await limiter.penalize("111", 1000, { now: t0 });
    expect(await limiter.reserve("111", false, t0)).toBe(8000);

    await limiter.penalize("333", 5000, { global: true, now: t0 });
    const fresh = await limiter.reserve("444", false, t0);
    expect(fresh).toBeGreaterThanOrEqual(5000);
    expect(fresh).toBeLessThan(5000 + 2 * GAP);
  });
});

describe("housekeeping", () => {
  it("gives every key an expiry so Redis does not grow", async () => {
    await limiter.reserve("-100777", true, t0);
    await limiter.reserve("111", false, t0);
    await limiter.penalize("222", 3000, { global: true, now: t0 });
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.length).toBeGreaterThanOrEqual(5); // global, pause, 2 chats + 1 penalized chat, 1 group
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl, `${key} has no expiry`).toBeGreaterThan(0);
      expect(ttl, `${key} lives longer than its slots matter`).toBeLessThanOrEqual(62_000);
    }
  });
});
