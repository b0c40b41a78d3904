/**
 * One poller per token: two Telegram channels with a Redis lease on one token, each a
 * real grammY bot talking to one fake Bot API (calls tagged "a" / "b"), and the real Redis.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/domain/channel.js";
import { createTelegramChannel, type TelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import { createRedisLease, type Lease } from "../../src/jobs/redis/lease.js";
import { telegramPollingLeaseKey } from "../../src/bot/telegram/telegram-setup.js";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const USER = 515_151;

let redis: Redis;
let fake: FakeBotApi;
let prefix: string;
let log: ReturnType<typeof captureLogger>;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(async () => {
  fake = await startFakeBotApi({ limits: false });
  prefix = `test-lease-${randomUUID()}`;
  log = captureLogger();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  await fake.close();
  await deleteKeysWithPrefix(redis, prefix);
  expect(log.dump(), "the token leaked into a log line").not.toContain(fake.token);
});

interface Process {
  channel: TelegramChannel;
  lease: Lease;
  events: InboundEvent[];
  connection: Redis;
}

/** One signoff process: its own Redis connection, lease and channel, calls tagged `client`. */
async function startProcess(client: string, lease: { ttlMs: number; renewEveryMs: number }): Promise<Process> {
  const connection = new Redis(REDIS_URL);
  cleanup.push(() => connection.quit());
  const leaseObj = createRedisLease(connection, { key: telegramPollingLeaseKey(prefix, fake.token), ...lease });
  const events: InboundEvent[] = [];
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRootFor(client),
    logger: log.logger.child({ process: client }),
    pollingTimeoutSeconds: 1,
    requestTimeoutMs: 2000,
    lease: leaseObj,
    leaseRetryMs: 100,
  });
  cleanup.push(() => channel.stop());
  await channel.start(async (event) => {
    events.push(event);
  });
  return { channel, lease: leaseObj, events, connection };
}

/** getUpdates requests of one process, counted when they arrive (a long poll answers later). */
const polls = (client: string) => fake.requestsTo("getUpdates", client);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("polling behind a lease", () => {
  it("lets only one of two processes poll a token; the other stands by, healthy", async () => {
    const a = await startProcess("a", { ttlMs: 5000, renewEveryMs: 1000 });
    const b = await startProcess("b", { ttlMs: 5000, renewEveryMs: 1000 });
    await fake.waitFor(() => polls("a").length > 0, 2000, "a to poll");
    await sleep(500); // five of b's attempts to take the lease

    expect(polls("b"), "the standby process polled").toHaveLength(0);
    expect(
      fake.calls.filter((c) => c.status === 409),
      "two pollers fought over getUpdates",
    ).toHaveLength(0);
    expect(a.channel.health()).toMatchObject({ ok: true, detail: { mode: "polling", leaseHeld: true, running: true } });
    expect(b.channel.health()).toEqual({
      ok: true,
      detail: { mode: "polling", leaseHeld: false, running: false, lastUpdateAt: null },
    });

    fake.userSendsText({ chatId: USER, text: "status" });
    await fake.waitFor(() => a.events.length === 1, 3000, "the update at the holder");
    expect(b.events).toHaveLength(0);
    expect(typeof a.channel.health().detail.lastUpdateAt).toBe("string");

    const key = telegramPollingLeaseKey(prefix, fake.token);
    expect(key).not.toContain(fake.token);
    expect(key).not.toContain(fake.token.split(":")[1]);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it("hands over at once when the holder stops and releases the lease", async () => {
    const a = await startProcess("a", { ttlMs: 5000, renewEveryMs: 1000 });
    const b = await startProcess("b", { ttlMs: 5000, renewEveryMs: 1000 });
    await fake.waitFor(() => polls("a").length > 0, 2000, "a to poll");

    await a.channel.stop();
    const stoppedAt = Date.now();
    // Far sooner than the 5 s ttl: only a released lease allows that.
    await fake.waitFor(() => polls("b").length > 0, 1500, "b to take over after a released the lease");
    expect(Date.now() - stoppedAt).toBeLessThan(1500);
    expect(
      polls("a").filter((c) => c.at > stoppedAt),
      "a polled after stop",
    ).toHaveLength(0);
    expect(b.channel.health().detail).toMatchObject({ leaseHeld: true, running: true });
    expect(a.lease.held).toBe(false);

    fake.userSendsText({ chatId: USER, text: "after handover" });
    await fake.waitFor(() => b.events.length === 1, 3000, "the update at the new holder");
  });

  it("takes over within about the ttl when the holder dies, and the old holder stops polling first", async () => {
    const ttlMs = 800;
    const a = await startProcess("a", { ttlMs, renewEveryMs: 200 });
    const b = await startProcess("b", { ttlMs, renewEveryMs: 200 });
    await fake.waitFor(() => polls("a").length > 0, 2000, "a to poll");

    // a can no longer renew (its Redis connection is gone), as if the process had died.
    a.connection.disconnect();
    const diedAt = Date.now();
    await fake.waitFor(() => polls("b").length > 0, 3000, "b to take over after a died");
    const tookMs = Date.now() - diedAt;
    // The key outlives a's last renewal (≤ 200 ms before death) by the ttl.
    expect(tookMs, "b took the lease before a's could expire").toBeGreaterThanOrEqual(ttlMs - 200 - 50);
    expect(tookMs, "b took too long to take over").toBeLessThan(ttlMs + 700);

    const firstPollOfB = polls("b")[0]?.at ?? 0;
    expect(
      polls("a").filter((c) => c.at >= firstPollOfB),
      "a still polled after b took over",
    ).toHaveLength(0);
    expect(a.lease.held).toBe(false);
    expect(a.channel.health().detail).toMatchObject({ leaseHeld: false, running: false });
    expect(
      log.lines.some((l) => l.obj.process === "a" && l.msg === "telegram polling lease lost; stopping polling"),
    ).toBe(true);

    fake.userSendsText({ chatId: USER, text: "after takeover" });
    await fake.waitFor(() => b.events.length === 1, 3000, "the update at the new holder");
    expect(a.events).toHaveLength(0);
  });
});
