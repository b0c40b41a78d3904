/**
 * Objection-window, deadline, reminder and escalation timers. Each is one member of a Redis
 * sorted set scored by its due time (`<kind>:<approval id>`, so scheduling twice keeps one timer),
 * and workers in every process claim the due ones in batches with one script call. A claim lapses
 * unless renewed, so the timers of a killed process are taken over within seconds. PostgreSQL
 * decides with a compare-and-set, so a timer that runs twice still counts once.
 *
 * Why not one BullMQ delayed job per timer, like the other queues: a BullMQ worker moves every
 * job in and out of Redis on its own, and at 5,000 windows ending a second that alone costs more
 * than the lateness allowed (measured with a worker that did nothing: p99 120–230 ms on two
 * cores). Claiming in batches costs one call per batch, and the reconcile checks 1,000 timers per
 * call.
 */
import { EventEmitter } from "node:events";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { TimerKind } from "../domain/approval.js";
import type { TimerScheduler } from "../handlers/approvals/approval-service.js";
import { defineScripts } from "./redis/scripts.js";

/** The queue's name (under the configured prefix), as metrics and logs call it. */
export const TIMER_QUEUE = "timers";

/** A timer the reconcile wants to exist. */
export interface TimerToEnsure {
  approvalId: string;
  kind: TimerKind;
  dueAt: Date;
}

/** The scheduler of approval timers, plus what the reconcile uses to re-create lost ones. */
export interface TimerQueueScheduler extends TimerScheduler {
  /** Schedule the timer unless it is already due or running (then it keeps its time). */
  ensure(approvalId: string, kind: TimerKind, dueAt: Date): Promise<void>;
  /**
   * Ensure many timers at a cost of one Redis call per 1,000 of them; only the ones lost or
   * failed are added. Resolves with how many were added.
   */
  ensureAll(timers: readonly TimerToEnsure[]): Promise<number>;
}

/** Counts by state, the shape the metrics read from every queue. */
export interface TimerQueueStats {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
  /** Nothing to release (the connection is the caller's); kept so every queue closes alike. */
  close(): Promise<void>;
}

/**
 * Redis keys of one prefix's timers. Not under `<prefix>:timers:`, where releases that kept timers
 * as BullMQ jobs left their keys (one of them, `failed`, of another type).
 */
export function timerKeys(prefix: string) {
  const key = (name: string) => `${prefix}:timer-set:${name}`;
  return {
    /** Sorted set: member → due time (epoch ms). */
    due: key("due"),
    /** Sorted set: member → when its claim lapses. */
    claimed: key("claimed"),
    /** Hash: member → "<due time> <holder>", while claimed. */
    claims: key("claims"),
    /** Hash: member → failed attempts so far. */
    attempts: key("attempts"),
    /** Hash: member → why it failed for good. */
    failed: key("failed"),
  };
}

/** The member naming one timer of one approval. */
export const timerMember = (approvalId: string, kind: TimerKind) => `${kind}:${approvalId}`;

/** Timers checked per script call: bounds how long one call holds Redis (~1 ms per 1,000). */
const CHECK_BATCH = 1000;

interface TimerCommands {
  signoffTimerClaim(
    due: string,
    claimed: string,
    claims: string,
    leaseMs: number,
    limit: number,
    callerNow: number,
    holder: string,
  ): Promise<[string | null, string[]]>;
  signoffTimerSettle(...keysThenArgs: Array<string | number>): Promise<number>;
  signoffTimerEnsure(...keysThenArgs: Array<string | number>): Promise<number>;
  signoffTimerRenew(
    claimed: string,
    claims: string,
    leaseMs: number,
    holder: string,
    ...members: string[]
  ): Promise<number>;
}

/** The timer scripts, defined on `connection` (exported for their tests). */
export function timerScripts(connection: Redis) {
  const file = (name: string) => new URL(`./${name}.lua`, import.meta.url);
  return defineScripts<TimerCommands>(connection, {
    signoffTimerClaim: { file: file("timer-claim"), numberOfKeys: 3 },
    signoffTimerSettle: { file: file("timer-settle"), numberOfKeys: 5 },
    signoffTimerEnsure: { file: file("timer-ensure"), numberOfKeys: 3 },
    signoffTimerRenew: { file: file("timer-renew"), numberOfKeys: 2 },
  });
}

/** Told when this process schedules a timer, so its worker need not wait for its next look. */
export interface TimerWakeups {
  listen(onScheduled: (dueAt: number) => void): () => void;
}

/** Create the timer scheduler, its counts for the metrics, and its wake-ups for the worker. */
export function createTimerQueue(connection: Redis, prefix: string) {
  const keys = timerKeys(prefix);
  const redis = timerScripts(connection);
  const scheduledHere = new EventEmitter();
  scheduledHere.setMaxListeners(0);

  const scheduler: TimerQueueScheduler = {
    async schedule(approvalId, kind, dueAt) {
      // The newest schedule wins: callers compute the time from the approval as it now stands.
      await redis.zadd(keys.due, dueAt.getTime(), timerMember(approvalId, kind));
      scheduledHere.emit("scheduled", dueAt.getTime());
    },
    async ensure(approvalId, kind, dueAt) {
      await scheduler.ensureAll([{ approvalId, kind, dueAt }]);
    },
    async ensureAll(timers) {
      let added = 0;
      for (let from = 0; from < timers.length; from += CHECK_BATCH) {
        const pairs = timers
          .slice(from, from + CHECK_BATCH)
          .flatMap((t) => [timerMember(t.approvalId, t.kind), t.dueAt.getTime()]);
        added += await redis.signoffTimerEnsure(keys.due, keys.claimed, keys.failed, ...pairs);
      }
      if (added > 0) scheduledHere.emit("scheduled", Date.now());
      return added;
    },
    async cancel(approvalId, kind) {
      // A timer already claimed runs once more and finds its approval decided.
      const member = timerMember(approvalId, kind);
      await Promise.all([redis.zrem(keys.due, member), redis.hdel(keys.attempts, member)]);
    },
  };

  const queue: TimerQueueStats = {
    name: TIMER_QUEUE,
    async getJobCounts() {
      const [delayed, active, failed] = await Promise.all([
        redis.zcard(keys.due),
        redis.zcard(keys.claimed),
        redis.hlen(keys.failed),
      ]);
      return { delayed, active, failed, waiting: 0, completed: 0, paused: 0, prioritized: 0 };
    },
    close: async () => undefined,
  };

  const wakeups: TimerWakeups = {
    listen(onScheduled) {
      scheduledHere.on("scheduled", onScheduled);
      return () => scheduledHere.off("scheduled", onScheduled);
    },
  };
  return { queue, scheduler, wakeups };
}

/**
 * Remove what releases that kept timers as BullMQ jobs left under `<prefix>:timers:` (their
 * timers are re-created in the sorted set by the start-up reconcile). Resolves with whether
 * there was anything to remove.
 */
export async function retireBullmqTimers(connection: Redis, prefix: string): Promise<boolean> {
  if ((await connection.exists(`${prefix}:${TIMER_QUEUE}:meta`, `${prefix}:${TIMER_QUEUE}:delayed`)) === 0)
    return false;
  const old = new Queue(TIMER_QUEUE, { connection, prefix });
  try {
    await old.obliterate({ force: true });
  } finally {
    await old.close();
  }
  return true;
}
