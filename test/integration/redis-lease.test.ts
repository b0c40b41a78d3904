/**
 * The Redis lease and `runWhileLeased` on the real Redis, each test with a fresh key: two
 * "processes" (each its own connection) compete for one piece of work. Exactly one works at a
 * time; a holder that keeps renewing keeps working; one whose renewals stop is replaced within
 * about the TTL, and stops before the other starts; a clean stop hands over at once.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { createRedisLease, type Lease } from "../../src/jobs/redis/lease.js";
import { type LeasedWork, runWhileLeased } from "../../src/jobs/redis/run-while-leased.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { REDIS_URL, eventually } from "../helpers/harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: Redis;
let prefix: string;
let key: string;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = `test-lease-${randomUUID()}`;
  key = `${prefix}:lease`;
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  await deleteKeysWithPrefix(redis, prefix);
});

describe("createRedisLease", () => {
  it("is exclusive, renewed while held, and free again after release", async () => {
    const first = createRedisLease(redis, { key, ttlMs: 600, renewEveryMs: 100 });
    const second = createRedisLease(redis, { key, ttlMs: 600, renewEveryMs: 100 });
    expect(await first.acquire()).toBe(true);
    expect(await first.acquire(), "the holder asking again still holds it").toBe(true);
    expect(await second.acquire()).toBe(false);

    await sleep(900); // longer than the ttl: only renewal keeps it
    expect(first.held).toBe(true);
    expect(await second.acquire()).toBe(false);
    expect(await redis.pttl(key)).toBeGreaterThan(300);

    await first.release();
    expect(first.held).toBe(false);
    expect(await second.acquire()).toBe(true);
    await first.release(); // not the holder: must not delete second's key
    expect(await redis.exists(key)).toBe(1);
    await second.release();
    expect(await redis.exists(key)).toBe(0);
  });

  it("tells the holder when another owner has the key", async () => {
    const lease = createRedisLease(redis, { key, ttlMs: 600, renewEveryMs: 100 });
    let lost = 0;
    lease.onLost(() => lost++);
    expect(await lease.acquire()).toBe(true);
    await redis.set(key, "someone-else", "PX", 5000);
    await eventually(() => lost === 1, "the loss to be noticed", 1000);
    expect(lease.held).toBe(false);
    await lease.release();
    expect(await redis.get(key), "release deleted another owner's lease").toBe("someone-else");
  });
});

/** What the competing holders did, in order, and any moment two of them worked at once. */
interface Timeline {
  events: Array<{ at: number; who: string; what: "start" | "stop:lost" | "stop:shutdown" }>;
  working: string | null;
  overlaps: string[];
}

interface Holder {
  name: string;
  connection: Redis;
  lease: Lease;
  work: LeasedWork;
  startedAt(): number | undefined;
}

/** One process competing for `key`: its own connection and lease, its work recorded in `timeline`. */
function holder(
  name: string,
  timeline: Timeline,
  timing: { ttlMs: number; renewEveryMs: number; retryEveryMs: number },
  options: { failStart?: boolean } = {},
): Holder {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  connection.on("error", () => undefined);
  const lease = createRedisLease(connection, { key, ttlMs: timing.ttlMs, renewEveryMs: timing.renewEveryMs });
  const work = runWhileLeased({
    lease,
    name,
    logger: captureLogger().logger,
    retryEveryMs: timing.retryEveryMs,
    async start() {
      if (options.failStart) throw new Error(`${name} cannot start`);
      if (timeline.working !== null) timeline.overlaps.push(`${name} started while ${timeline.working} worked`);
      timeline.working = name;
      timeline.events.push({ at: Date.now(), who: name, what: "start" });
    },
    async stop(reason) {
      if (timeline.working !== name) return; // shutdown while standing by
      timeline.working = null;
      timeline.events.push({ at: Date.now(), who: name, what: `stop:${reason}` });
    },
  });
  cleanup.push(async () => {
    await work.stop();
    connection.disconnect();
  });
  const startedAt = () => timeline.events.find((e) => e.who === name && e.what === "start")?.at;
  return { name, connection, lease, work, startedAt };
}

const newTimeline = (): Timeline => ({ events: [], working: null, overlaps: [] });
const story = (t: Timeline) => t.events.map((e) => `${e.who} ${e.what}`);

describe("runWhileLeased", () => {
  it("lets one of two holders work, and a holder that renews keeps working for many TTLs", async () => {
    const timeline = newTimeline();
    const timing = { ttlMs: 600, renewEveryMs: 150, retryEveryMs: 50 };
    const a = holder("a", timeline, timing);
    const b = holder("b", timeline, timing);
    await a.work.start();
    await b.work.start();
    expect(a.work.running).toBe(true);
    expect(b.work.running).toBe(false);

    await sleep(3 * timing.ttlMs); // dozens of b's attempts; only a's renewals keep b out
    expect(story(timeline), "a holder that renews lost its work").toEqual(["a start"]);
    expect(a.lease.held).toBe(true);
    expect(b.work.running).toBe(false);
    expect(timeline.overlaps).toEqual([]);
  });

  it("replaces a holder whose renewals stopped within about the TTL, and that holder stops first", async () => {
    const timeline = newTimeline();
    const timing = { ttlMs: 800, renewEveryMs: 200, retryEveryMs: 50 };
    const a = holder("a", timeline, timing);
    const b = holder("b", timeline, timing);
    await a.work.start();
    await b.work.start();
    expect(a.work.running).toBe(true);

    // a can no longer renew (its Redis connection is gone), as when a process hangs or dies.
    a.connection.disconnect();
    const diedAt = Date.now();
    await eventually(() => b.work.running, "b to take over", 3_000);
    const tookMs = b.startedAt()! - diedAt;
    // a's key outlives its last renewal (at most renewEveryMs before the cut) by the TTL.
    expect(tookMs, "b started before a's lease could have expired").toBeGreaterThanOrEqual(
      timing.ttlMs - timing.renewEveryMs - 50,
    );
    expect(tookMs, "b took too long to take over").toBeLessThan(timing.ttlMs + timing.retryEveryMs + 400);
    expect(story(timeline)).toEqual(["a start", "a stop:lost", "b start"]);
    expect(timeline.overlaps, "two holders worked at once").toEqual([]);
    expect(a.work.running).toBe(false);
  });

  it("hands over at once on stop(): the other starts without waiting for the TTL", async () => {
    const timeline = newTimeline();
    const timing = { ttlMs: 5_000, renewEveryMs: 1_000, retryEveryMs: 50 };
    const a = holder("a", timeline, timing);
    const b = holder("b", timeline, timing);
    await a.work.start();
    await b.work.start();

    const stoppedAt = Date.now();
    await a.work.stop();
    expect(await redis.exists(key), "stop() left the key for the TTL to remove").toBe(0);
    await eventually(() => b.work.running, "b to take over after a stopped", 1_500);
    expect(b.startedAt()! - stoppedAt, "far sooner than the 5 s TTL").toBeLessThan(1_000);
    expect(story(timeline)).toEqual(["a start", "a stop:shutdown", "b start"]);
    expect(timeline.overlaps).toEqual([]);
  });

  it("stands by after losing the lease to another owner, and works again once the key is free", async () => {
    const timeline = newTimeline();
    const a = holder("a", timeline, { ttlMs: 600, renewEveryMs: 100, retryEveryMs: 50 });
    await a.work.start();
    await redis.set(key, "another-process", "PX", 700);
    await eventually(() => timeline.events.length === 2, "a to stop", 1_000);
    expect(story(timeline)).toEqual(["a start", "a stop:lost"]);
    await eventually(() => a.work.running, "a to work again after the other's key expired", 2_000);
    expect(story(timeline)).toEqual(["a start", "a stop:lost", "a start"]);
  });

  it("releases the lease when the work cannot start, so another holder gets it", async () => {
    const timeline = newTimeline();
    const timing = { ttlMs: 5_000, renewEveryMs: 1_000, retryEveryMs: 50 };
    const a = holder("a", timeline, timing, { failStart: true });
    await a.work.start();
    expect(a.work.running).toBe(false);
    const b = holder("b", timeline, timing);
    const t0 = Date.now();
    await b.work.start();
    await eventually(() => b.work.running, "b to get the lease a could not use", 1_500);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it("work that ended by itself: retry hands over, give-up never comes back, hold keeps the lease", async () => {
    const timeline = newTimeline();
    const timing = { ttlMs: 600, renewEveryMs: 100, retryEveryMs: 50 };
    const a = holder("a", timeline, timing);
    const b = holder("b", timeline, timing);
    await a.work.start();
    await b.work.start();

    // a's work crashed: b may take over at once (a would try again later).
    timeline.working = null;
    await a.work.ended("retry");
    await eventually(() => b.work.running, "b to take over after a's work ended", 1_000);

    // b's work ended for good but must not pass to anyone (a logged-out session): b keeps the lease.
    timeline.working = null;
    await b.work.ended("hold");
    await sleep(3 * timing.ttlMs);
    expect(a.work.running, "a took a lease b was holding").toBe(false);
    expect(b.lease.held).toBe(true);

    // b gives up its hold at shutdown: a takes over; a's work then gives up for good.
    await b.work.stop();
    await eventually(() => a.work.running, "a to take over after b stopped", 1_000);
    timeline.working = null;
    await a.work.ended("give-up");
    expect(await redis.exists(key), "give-up released the lease").toBe(0);
    await sleep(300); // six retry pauses
    expect(a.work.running, "a tried again after giving up").toBe(false);
    expect(story(timeline)).toEqual(["a start", "b start", "a start"]);
  });
});
