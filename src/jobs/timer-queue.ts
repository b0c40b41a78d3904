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
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { TimerKind } from "../domain/approval.js";
import type { ApprovalService, TimerScheduler } from "../handlers/approvals/approval-service.js";
import { plannedTimers } from "../handlers/approvals/approval-machine.js";
import { isPermanentJobError } from "./job-errors.js";
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

/** Told how late each timer took effect (metrics). */
export interface TimerObserver {
  ran(latenessMs: number): void;
}

/** Options of {@link createTimerWorker}; the defaults suit production. */
export interface TimerWorkerOptions {
  /** Timers run at once. @defaultValue 500 */
  concurrency?: number;
  observe?: TimerObserver;
  /** Wake at once when this process schedules an earlier timer. */
  wakeups?: TimerWakeups;
  /**
   * How long a claim holds without renewal; a killed process's timers are taken over this long
   * after it died. Renewed every third of it while running. @defaultValue 6000
   */
  leaseMs?: number;
  /** The longest wait between looks when nothing is due (another process may schedule). @defaultValue 50 */
  idleMs?: number;
  /** First retry delay, doubling up to the longest; tried until it succeeds. @defaultValue 200, 60000 */
  retry?: { firstDelayMs: number; longestDelayMs: number };
  /** How long `close` waits for running timers before it lets go of them. @defaultValue 2500 */
  closeWithinMs?: number;
}

/** Timers claimed in one call at most. */
const MAX_CLAIM = 500;
/** Waits after a failed claim (Redis down), so an outage is not a busy loop. */
const CLAIM_ERROR_WAIT_MS = 1000;

/** The worker that runs due timers; see the module comment. */
export interface TimerWorker {
  readonly name: string;
  /** Redis errors (claims, settles, renewals); the worker keeps going and tries again. */
  on(event: "error", listener: (error: Error) => void): this;
  /**
   * Stop claiming, let running timers finish (for `closeWithinMs` at most: Redis may be down), and
   * record what became of them. Claims left unsettled lapse and are taken over.
   */
  close(): Promise<void>;
  /** The connection it runs on (the caller closes it). */
  readonly connection: Redis;
}

type Settlement = [member: string, outcome: "done" | "later" | "retry" | "failed", detail: string];

/**
 * Start claiming and running due timers with `service.fireTimer`. A timer whose approval no
 * longer exists fails at once; other errors retry with a doubling backoff.
 */
export function createTimerWorker(
  connection: Redis,
  prefix: string,
  service: Pick<ApprovalService, "fireTimer">,
  options: TimerWorkerOptions = {},
): TimerWorker {
  const keys = timerKeys(prefix);
  const redis = timerScripts(connection);
  const concurrency = options.concurrency ?? 500;
  const leaseMs = options.leaseMs ?? 6_000;
  const idleMs = options.idleMs ?? 50;
  const retry = options.retry ?? { firstDelayMs: 200, longestDelayMs: 60_000 };
  const closeWithinMs = options.closeWithinMs ?? 2_500;
  /** This worker, as the holder of its claims. */
  const holder = randomUUID();
  const events = new EventEmitter();
  const running = new Set<string>();
  const settlements: Settlement[] = [];
  let settling: Promise<void> | null = null;
  let stopping = false;
  let wakeAt = Infinity;
  let wakeTimer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;

  const report = (error: unknown) => {
    const err = error instanceof Error ? error : new Error(String(error));
    if (events.listenerCount("error") > 0) events.emit("error", err);
  };

  /** Sleep until `ms` from now at the latest, or until woken (a slot frees, an earlier timer, close). */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeAt = Date.now() + ms;
      wake = () => {
        if (wakeTimer) clearTimeout(wakeTimer);
        wakeTimer = null;
        wake = null;
        wakeAt = Infinity;
        resolve();
      };
      wakeTimer = setTimeout(() => wake?.(), ms);
    });

  const stopListening = options.wakeups?.listen((dueAt) => {
    if (dueAt < wakeAt) wake?.();
  });

  async function fire(member: string, dueAt: number): Promise<Settlement> {
    const split = member.indexOf(":");
    const kind = member.slice(0, split) as TimerKind;
    const approvalId = member.slice(split + 1);
    const startedAt = Date.now();
    try {
      const result = await service.fireTimer(approvalId, kind);
      if (result.outcome === "ignored") {
        // Fired early (clocks of two processes disagree), or the window moved later while it ran:
        // a notice landed late, between this timer reading "nobody saw it" and its escalation
        // reading "seen after all". It is the window's only timer, so it waits for the rest.
        const plan = plannedTimers(result.approval).find((t) => t.kind === kind);
        if (plan && (result.reason === "timer_not_due" || plan.dueAt.getTime() > dueAt))
          return [member, "later", String(plan.dueAt.getTime())];
      }
      try {
        // Measured once, on the run that took effect: retries after a failure count as lateness.
        options.observe?.ran(startedAt - dueAt);
      } catch {
        // Measuring a timer must never make it fail and run again.
      }
      return [member, "done", ""];
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      return [member, isPermanentJobError(error) ? "failed" : "retry", reason];
    }
  }

  /** Record outcomes in one call per tick; a failed call leaves the claims to lapse and rerun. */
  function settle(settlement: Settlement): void {
    settlements.push(settlement);
    settling ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const batch = settlements.splice(0);
      settling = null;
      const later = batch.filter((s) => s[1] === "later").map((s) => Number(s[2]));
      try {
        await redis.signoffTimerSettle(
          keys.due,
          keys.claimed,
          keys.claims,
          keys.attempts,
          keys.failed,
          retry.firstDelayMs,
          retry.longestDelayMs,
          holder,
          ...batch.flat(),
        );
      } catch (error) {
        report(error);
      }
      if (later.length > 0 && Math.min(...later) < wakeAt) wake?.();
    });
  }

  const renewal = setInterval(() => {
    if (running.size === 0) return;
    redis.signoffTimerRenew(keys.claimed, keys.claims, leaseMs, holder, ...running).catch(report);
  }, leaseMs / 3);

  function start(member: string, dueAt: number): void {
    running.add(member);
    void fire(member, dueAt).then((outcome) => {
      running.delete(member);
      settle(outcome);
      if (running.size === concurrency - 1) wake?.(); // a slot is free again
    });
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      const room = Math.min(concurrency - running.size, MAX_CLAIM);
      if (room <= 0) {
        await sleep(idleMs);
        continue;
      }
      let reply: [string | null, string[]];
      try {
        reply = await redis.signoffTimerClaim(keys.due, keys.claimed, keys.claims, leaseMs, room, Date.now(), holder);
      } catch (error) {
        report(error);
        await sleep(CLAIM_ERROR_WAIT_MS);
        continue;
      }
      const [nextDue, claimed] = reply;
      for (let i = 0; i < claimed.length; i += 2) {
        const member = claimed[i]!;
        const dueAt = Number(claimed[i + 1]);
        // Closing: what was claimed after the last look goes back as it was, for another worker.
        if (stopping) settle([member, "later", String(dueAt)]);
        // Its claim lapsed while it ran here (the event loop was blocked): it runs on, renewed.
        else if (!running.has(member)) start(member, dueAt);
      }
      if (claimed.length / 2 === room) continue; // more may be due already
      const untilNext = nextDue === null ? idleMs : Number(nextDue) - Date.now();
      await sleep(Math.max(0, Math.min(idleMs, untilNext)));
    }
  }

  const looping = loop();
  const worker: TimerWorker = {
    name: TIMER_QUEUE,
    connection,
    on(event, listener) {
      events.on(event, listener);
      return worker;
    },
    async close() {
      stopping = true;
      wake?.();
      stopListening?.();
      const drained = (async () => {
        await looping;
        while (running.size > 0) await new Promise((r) => setTimeout(r, 10));
        while (settling) await settling;
      })();
      let deadline: NodeJS.Timeout | undefined;
      try {
        await Promise.race([drained, new Promise((r) => (deadline = setTimeout(r, closeWithinMs)))]);
      } finally {
        clearTimeout(deadline);
        clearInterval(renewal);
      }
    },
  };
  return worker;
}
