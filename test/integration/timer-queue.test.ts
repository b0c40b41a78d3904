/**
 * Timers against a real Redis: the reconcile's check adds exactly the lost ones; the worker runs
 * each due timer once, never early, retries passing failures with backoff, fails a timer whose
 * approval is gone at once, waits again when a window moved; two workers share the timers
 * without running one twice, a killed worker's claims are taken over, and a slow timer keeps its
 * claim; a worker runs no more than its concurrency at once, never starts a timer it still runs,
 * and gives back what it claimed while closing. The approval service is replaced by a script of
 * what it answers.
 */
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Approval, TimerKind } from "../../src/domain/approval.js";
import { AppError } from "../../src/domain/errors.js";
import type { ApprovalService } from "../../src/handlers/approvals/approval-service.js";
import {
  type TimerToEnsure,
  createTimerQueue,
  retireBullmqTimers,
  timerKeys,
  timerMember,
  timerScripts,
} from "../../src/jobs/timer-queue.js";
import { type TimerWorker, type TimerWorkerOptions, createTimerWorker } from "../../src/jobs/timer-worker.js";
import { REDIS_URL, cleanupTestInstance, eventually, uniqueName } from "../helpers/harness.js";

const schema = uniqueName("t"); // no schema is created; cleanup only needs a name
const prefixes: string[] = [];
const connections: Redis[] = [];
const workers: TimerWorker[] = [];
let redis: Redis;

function connect(): Redis {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(connection);
  return connection;
}

function fresh() {
  const prefix = uniqueName("q");
  prefixes.push(prefix);
  return { prefix, keys: timerKeys(prefix), ...createTimerQueue(connect(), prefix) };
}

type Fire = Pick<ApprovalService, "fireTimer">["fireTimer"];
const decided = { outcome: "escalated", approval: {} as Approval } as Awaited<ReturnType<Fire>>;

function startWorker(prefix: string, fireTimer: Fire, options: TimerWorkerOptions = {}): TimerWorker {
  const worker = createTimerWorker(connect(), prefix, { fireTimer }, { idleMs: 20, ...options });
  workers.push(worker);
  return worker;
}

const inAnHour = () => new Date(Date.now() + 3_600_000);
const timer = (kind: TimerKind = "deadline"): TimerToEnsure => ({ approvalId: randomUUID(), kind, dueAt: inAnHour() });
const memberOf = (t: TimerToEnsure) => timerMember(t.approvalId, t.kind);

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  for (const w of workers) await w.close();
  for (const c of connections) await c.quit();
  await redis.quit();
  for (const prefix of prefixes) await cleanupTestInstance(schema, prefix);
});

describe("ensureAll", () => {
  it("adds only the timers that are neither due nor running, and brings failed ones back", async () => {
    const { keys, scheduler } = fresh();
    const [scheduled, lost, running, failed] = [timer(), timer(), timer(), timer()];
    await scheduler.schedule(scheduled.approvalId, scheduled.kind, new Date(Date.now() + 60_000)); // moved earlier
    await redis.zadd(keys.claimed, Date.now() + 60_000, memberOf(running)); // a worker runs it
    await redis.hset(keys.failed, memberOf(failed), "retries exhausted");

    const all = [scheduled, lost, running, failed];
    expect(await scheduler.ensureAll(all)).toBe(2);

    const due = await redis.zrange(keys.due, "0", "-1");
    expect(new Set(due)).toEqual(new Set([scheduled, lost, failed].map(memberOf)));
    // The one already scheduled keeps its own (newer) time.
    expect(Number(await redis.zscore(keys.due, memberOf(scheduled)))).toBeLessThan(scheduled.dueAt.getTime());
    expect(Number(await redis.zscore(keys.due, memberOf(lost)))).toBe(lost.dueAt.getTime());
    expect(await redis.hexists(keys.failed, memberOf(failed))).toBe(0);
    expect(await redis.zscore(keys.due, memberOf(running))).toBeNull();
    expect(await scheduler.ensureAll(all)).toBe(0); // nothing left to add
  });

  it("checks timers in batches and finds the lost ones in every batch", async () => {
    const { keys, scheduler } = fresh();
    const timers = Array.from({ length: 2_500 }, () => timer());
    expect(await scheduler.ensureAll(timers)).toBe(2_500);
    const lost = [timers[0]!, timers[1_000]!, timers[2_499]!]; // one in each batch of 1,000, at its edges
    await redis.zrem(keys.due, ...lost.map(memberOf));

    expect(await scheduler.ensureAll(timers)).toBe(lost.length);
    expect(await redis.zcard(keys.due)).toBe(2_500);
  });
});

describe("timer worker", () => {
  it("runs a timer once, when it is due and not before", async () => {
    const { prefix, keys, scheduler, wakeups } = fresh();
    const runs: Array<{ id: string; at: number }> = [];
    startWorker(
      prefix,
      async (approvalId) => {
        runs.push({ id: approvalId, at: Date.now() });
        return decided;
      },
      { wakeups },
    );
    const id = randomUUID();
    const dueAt = Date.now() + 300;

    await scheduler.schedule(id, "objection", new Date(dueAt));
    await eventually(() => runs.length === 1, "the timer to run");
    await new Promise((r) => setTimeout(r, 300));

    expect(runs.map((r) => r.id)).toEqual([id]);
    expect(runs[0]!.at).toBeGreaterThanOrEqual(dueAt);
    expect(runs[0]!.at - dueAt, "ms late").toBeLessThan(200);
    await eventually(async () => (await redis.zcard(keys.claimed)) === 0, "its claim to end");
    expect(await redis.zcard(keys.due)).toBe(0);
  });

  it("does not run a cancelled timer", async () => {
    const { prefix, scheduler } = fresh();
    const runs: string[] = [];
    startWorker(prefix, async (approvalId) => {
      runs.push(approvalId);
      return decided;
    });
    const [cancelled, kept] = [randomUUID(), randomUUID()];
    await scheduler.schedule(cancelled, "deadline", new Date(Date.now() + 200));
    await scheduler.schedule(kept, "deadline", new Date(Date.now() + 250));
    await scheduler.cancel(cancelled, "deadline");

    await eventually(() => runs.length === 1, "the kept timer to run");
    await new Promise((r) => setTimeout(r, 200));
    expect(runs).toEqual([kept]);
  });

  it("fails a timer whose approval is gone after one attempt, naming the approval", async () => {
    const { prefix, keys, scheduler } = fresh();
    let runs = 0;
    startWorker(prefix, async (approvalId) => {
      runs++;
      throw new AppError({ code: "not_found", message: `approval ${approvalId} not found` });
    });
    const missing = randomUUID();

    await scheduler.schedule(missing, "deadline", new Date());
    const reason = await eventually(() => redis.hget(keys.failed, timerMember(missing, "deadline")), "it to fail");

    expect(reason).toContain(missing);
    expect(reason).toContain("not found");
    await new Promise((r) => setTimeout(r, 400)); // past the first retry's delay
    expect(runs).toBe(1);
    expect(await redis.zcard(keys.due)).toBe(0);
  });

  it("retries a passing failure with a doubling backoff and then fires the timer", async () => {
    const { prefix, keys, scheduler } = fresh();
    const failures = [
      new Error("connection terminated unexpectedly"),
      Object.assign(new Error("lost a race"), { code: "conflict" }),
    ];
    const calls: number[] = [];
    startWorker(prefix, async () => {
      calls.push(Date.now());
      const failure = failures.shift();
      if (failure) throw failure;
      return decided;
    });

    await scheduler.schedule(randomUUID(), "deadline", new Date());
    await eventually(() => calls.length === 3, "a third attempt", 5_000);

    expect(calls[1]! - calls[0]!, "first retry after ~200 ms").toBeGreaterThanOrEqual(190);
    expect(calls[2]! - calls[1]!, "second retry after ~400 ms").toBeGreaterThanOrEqual(390);
    await eventually(async () => (await redis.zcard(keys.claimed)) === 0, "its claim to end");
    expect(await redis.hlen(keys.attempts)).toBe(0);
    expect(await redis.zcard(keys.due)).toBe(0);
  });

  it("keeps retrying a passing failure, at most the longest delay apart, until it succeeds", async () => {
    const { prefix, keys, scheduler } = fresh();
    const calls: number[] = [];
    startWorker(
      prefix,
      async () => {
        calls.push(Date.now());
        if (calls.length <= 6) throw new Error("connection refused");
        return decided;
      },
      { retry: { firstDelayMs: 10, longestDelayMs: 60 } },
    );

    await scheduler.schedule(randomUUID(), "deadline", new Date());
    await eventually(() => calls.length === 7, "a seventh attempt", 5_000);

    const gaps = calls.slice(1).map((at, i) => at - calls[i]!);
    expect(Math.max(...gaps), `gaps ${gaps.join(", ")} ms`).toBeLessThan(60 + 150);
    expect(gaps.at(-1)!, "the delay stopped doubling at the longest").toBeGreaterThanOrEqual(55);
    await eventually(async () => (await redis.hlen(keys.attempts)) === 0, "its attempts to be forgotten");
    expect(await redis.hlen(keys.failed)).toBe(0);
  });

  it("waits again, without spinning, for a timer that came before its due time", async () => {
    const { prefix, scheduler } = fresh();
    const runs: number[] = [];
    const realEnd = Date.now() + 400;
    startWorker(prefix, async (approvalId) => {
      runs.push(Date.now());
      const approval = { id: approvalId, status: "pending", effectiveGate: "low", objectionEndsAt: new Date(realEnd) };
      return Date.now() < realEnd
        ? { outcome: "ignored", reason: "timer_not_due", approval: approval as Approval }
        : decided;
    });

    // Scheduled (say, by a process whose clock is ahead) well before the window's end.
    await scheduler.schedule(randomUUID(), "objection", new Date(Date.now() + 50));
    await eventually(() => runs.length === 2, "the second run", 5_000);
    await new Promise((r) => setTimeout(r, 200));

    expect(runs).toHaveLength(2);
    expect(runs[1]!).toBeGreaterThanOrEqual(realEnd);
  });

  it("runs a timer scheduled again while it runs once more afterwards, never twice at once", async () => {
    const { prefix, scheduler } = fresh();
    const id = randomUUID();
    let running = 0;
    let mostAtOnce = 0;
    let runs = 0;
    startWorker(prefix, async () => {
      runs++;
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      // While the first run is going on, the timer is scheduled again, due at once.
      if (runs === 1) await scheduler.schedule(id, "deadline", new Date());
      await new Promise((r) => setTimeout(r, 200));
      running--;
      return decided;
    });

    await scheduler.schedule(id, "deadline", new Date());
    await eventually(() => runs === 2 && running === 0, "the second run to end", 5_000);

    expect(mostAtOnce).toBe(1);
  });

  it("wakes at once for an earlier timer this process schedules, however long its idle wait", async () => {
    const { prefix, scheduler, wakeups } = fresh();
    const runs: number[] = [];
    startWorker(
      prefix,
      async () => {
        runs.push(Date.now());
        return decided;
      },
      { idleMs: 5_000, wakeups },
    );
    await new Promise((r) => setTimeout(r, 100)); // it looked, found nothing, and waits 5 s
    const dueAt = Date.now() + 100;

    await scheduler.schedule(randomUUID(), "deadline", new Date(dueAt));
    await eventually(() => runs.length === 1, "the timer to run", 3_000);

    expect(runs[0]! - dueAt, "ms late").toBeLessThan(150);
  });

  it("closes within its bound while Redis does not answer", async () => {
    // A port nobody listens on: every command waits for a connection that never comes.
    const unreachable = new Redis({ port: 1, lazyConnect: false, maxRetriesPerRequest: null, retryStrategy: () => 50 });
    unreachable.on("error", () => undefined);
    const worker = createTimerWorker(
      unreachable,
      uniqueName("q"),
      { fireTimer: async () => decided },
      { closeWithinMs: 300 },
    );
    await new Promise((r) => setTimeout(r, 100));
    const began = Date.now();

    await worker.close();

    expect(Date.now() - began).toBeLessThan(1_000);
    unreachable.disconnect();
  });

  it("runs again at the window's new end when a late notice moved it while the timer ran", async () => {
    const { prefix, scheduler } = fresh();
    const runs: number[] = [];
    let newEnd = 0;
    // The first run ends as the escalation that saw the late notice ("timer_not_applicable"),
    // with the window now counted from that notice; the second run approves.
    startWorker(prefix, async (approvalId) => {
      runs.push(Date.now());
      if (runs.length === 1) newEnd = Date.now() + 300;
      const approval = {
        id: approvalId,
        status: runs.length === 1 ? "pending" : "approved",
        effectiveGate: "low",
        objectionEndsAt: new Date(newEnd),
      };
      return runs.length === 1
        ? { outcome: "ignored", reason: "timer_not_applicable", approval: approval as Approval }
        : { outcome: "ignored", reason: "already_decided", approval: approval as Approval };
    });

    await scheduler.schedule(randomUUID(), "objection", new Date(Date.now() + 50));
    await eventually(() => runs.length >= 2, "the timer to run again at the window's new end", 5_000);
    await new Promise((r) => setTimeout(r, 300));

    expect(runs[1]!, "ran again before the window's new end").toBeGreaterThanOrEqual(newEnd - 5);
    expect(runs).toHaveLength(2);
  });

  it("shares 2,000 due timers between two workers, running each exactly once", async () => {
    const { prefix, keys, scheduler } = fresh();
    const runs = new Map<string, number>();
    const byWorker = [0, 0];
    const fireAs =
      (n: number): Fire =>
      async (approvalId) => {
        byWorker[n]!++;
        runs.set(approvalId, (runs.get(approvalId) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 2)); // a decision takes a moment
        return decided;
      };
    const timers = Array.from({ length: 2_000 }, () => ({ ...timer("objection"), dueAt: new Date(Date.now() + 300) }));
    await scheduler.ensureAll(timers);
    startWorker(prefix, fireAs(0), { concurrency: 50 });
    startWorker(prefix, fireAs(1), { concurrency: 50 });

    await eventually(() => runs.size === 2_000, "every timer to run", 15_000);
    await eventually(async () => (await redis.zcard(keys.claimed)) === 0, "every claim to end");

    expect(
      [...runs.values()].every((n) => n === 1),
      "a timer ran twice",
    ).toBe(true);
    expect(Math.min(...byWorker), "one worker did nothing").toBeGreaterThan(100);
  });

  it("takes over the timers of a worker that died holding them, once their claim lapses", async () => {
    const { prefix, keys } = fresh();
    const orphan = randomUUID();
    const member = timerMember(orphan, "deadline");
    const dueAt = Date.now() - 1_000;
    // What a killed worker leaves: the claim, lapsing in 300 ms, and the timer's due time.
    await redis.zadd(keys.claimed, Date.now() + 300, member);
    await redis.hset(keys.claims, member, String(dueAt));
    const runs: Array<{ id: string; at: number }> = [];
    const lateness: number[] = [];
    startWorker(
      prefix,
      async (approvalId) => {
        runs.push({ id: approvalId, at: Date.now() });
        return decided;
      },
      {
        observe: { ran: (ms) => lateness.push(ms) },
      },
    );
    const started = Date.now();

    await eventually(() => runs.length === 1, "the orphaned timer to run", 5_000);
    expect(runs[0]!.id).toBe(orphan);
    expect(runs[0]!.at - started, "ran before the claim lapsed").toBeGreaterThanOrEqual(250);
    expect(lateness[0]!, "lateness counted from the timer's due time").toBeGreaterThanOrEqual(1_250);
  });

  it("keeps the claim of a timer that runs longer than the lease, so no other worker runs it", async () => {
    const { prefix, scheduler } = fresh();
    const runs: string[] = [];
    const slow: Fire = async (approvalId) => {
      runs.push(approvalId);
      await new Promise((r) => setTimeout(r, 1_000));
      return decided;
    };
    startWorker(prefix, slow, { leaseMs: 300 });
    startWorker(prefix, slow, { leaseMs: 300 });

    await scheduler.schedule(randomUUID(), "deadline", new Date());
    await new Promise((r) => setTimeout(r, 1_600));
    expect(runs).toHaveLength(1);
  });

  it("lets a running timer finish on close and records it done", async () => {
    const { prefix, keys, scheduler } = fresh();
    let finished = false;
    let began = false;
    const worker = startWorker(prefix, async () => {
      began = true;
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
      return decided;
    });
    await scheduler.schedule(randomUUID(), "deadline", new Date());
    await eventually(() => began, "the timer to begin");

    await worker.close();

    expect(finished).toBe(true);
    expect(await redis.zcard(keys.claimed)).toBe(0);
    expect(await redis.zcard(keys.due)).toBe(0);
  });

  it("never runs more timers at once than its concurrency, and runs them all", async () => {
    const { prefix, scheduler } = fresh();
    let runningNow = 0;
    let most = 0;
    const ran = new Set<string>();
    startWorker(
      prefix,
      async (approvalId) => {
        most = Math.max(most, ++runningNow);
        await new Promise((r) => setTimeout(r, 30));
        runningNow--;
        ran.add(approvalId);
        return decided;
      },
      { concurrency: 3 },
    );
    const timers = Array.from({ length: 12 }, () => ({ ...timer("objection"), dueAt: new Date() }));
    await scheduler.ensureAll(timers);

    await eventually(() => ran.size === 12, "every timer to run");
    expect(most).toBe(3);
  });

  it("does not start a timer again that its own claim brought back while it still runs", async () => {
    const { prefix, keys, scheduler } = fresh();
    const t = { ...timer("deadline"), dueAt: new Date() };
    let runs = 0;
    let finish!: () => void;
    startWorker(prefix, async () => {
      runs++;
      await new Promise<void>((r) => {
        finish = r;
      });
      return decided;
    });
    await scheduler.ensureAll([t]);
    await eventually(() => runs === 1, "the timer to start");
    // Its claim lapses while it runs (as when the event loop was blocked past the lease): the
    // worker's next look claims it again, and must not start it a second time.
    await redis.zadd(keys.claimed, Date.now() - 1, memberOf(t));
    await eventually(async () => Number(await redis.zscore(keys.claimed, memberOf(t))) > Date.now(), "the re-claim");
    // The claim is in Redis a moment before its reply reaches the worker: let the reply land
    // while the timer still runs (once it has ended, running it again is what a new claim does).
    await new Promise((r) => setTimeout(r, 100));
    finish();
    await eventually(async () => (await redis.zcard(keys.claimed)) === 0, "the timer to settle");
    expect(runs).toBe(1);
  });

  it("gives back, as they were, the timers a claim brought in after close began", async () => {
    const { prefix, keys, scheduler } = fresh();
    const fired: string[] = [];
    const worker = startWorker(prefix, async (approvalId) => {
      fired.push(approvalId);
      return decided;
    });
    // Hold the reply of the claim that finds the timers, as a slow Redis would, until close began.
    const scripts = worker.connection as unknown as { signoffTimerClaim: (...args: unknown[]) => Promise<unknown> };
    const claim = scripts.signoffTimerClaim.bind(worker.connection);
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let held = false;
    let looks = 0;
    scripts.signoffTimerClaim = async (...args: unknown[]) => {
      const reply = (await claim(...args)) as [string | null, string[]];
      looks++;
      if (reply[1].length > 0) {
        held = true;
        await released;
      }
      return reply;
    };
    // A claim sent before the wrapper (queued while the connection opened) must not find them:
    // once one through the wrapper has come back, every earlier one on that connection has too.
    await eventually(() => looks > 0, "the worker to look through the wrapper");
    const dueAt = new Date(Date.now() - 500);
    const timers = Array.from({ length: 3 }, () => ({ ...timer("deadline"), dueAt }));
    await scheduler.ensureAll(timers);
    await eventually(() => held, "a claim to bring the timers in");

    const closing = worker.close();
    release();
    await closing;

    expect(fired).toEqual([]);
    expect(await redis.zcard(keys.claimed)).toBe(0);
    const due = await redis.zrange(keys.due, "0", "-1", "WITHSCORES");
    expect(due).toHaveLength(6);
    for (const t of timers) expect(Number(await redis.zscore(keys.due, memberOf(t)))).toBe(dueAt.getTime());
  });
});

describe("timer scripts", () => {
  it("settle and renew only the claims their worker still holds", async () => {
    const { keys } = fresh();
    const scripts = timerScripts(connect());
    const [mine, takenOver] = [timerMember(randomUUID(), "deadline"), timerMember(randomUUID(), "deadline")];
    const lapses = Date.now() + 60_000;
    await redis.zadd(keys.claimed, lapses, mine, lapses, takenOver);
    await redis.hset(keys.claims, mine, `${Date.now()} worker-a`, takenOver, `${Date.now()} worker-b`);

    // Worker a's claim on the second timer lapsed and worker b took it over.
    expect(await scripts.signoffTimerRenew(keys.claimed, keys.claims, 120_000, "worker-a", mine, takenOver)).toBe(1);
    const settled = await scripts.signoffTimerSettle(
      keys.due,
      keys.claimed,
      keys.claims,
      keys.attempts,
      keys.failed,
      200,
      60_000,
      "worker-a",
      ...[mine, "done", "", takenOver, "done", ""],
    );

    expect(settled).toBe(1);
    expect(await redis.zrange(keys.claimed, "0", "-1")).toEqual([takenOver]);
    expect(Number(await redis.zscore(keys.claimed, takenOver))).toBe(lapses); // not renewed by a
    expect(await redis.hget(keys.claims, takenOver)).toMatch(/ worker-b$/);
  });

  it("claims by the caller's clock, the one its decisions use, not Redis's", async () => {
    const { keys } = fresh();
    const scripts = timerScripts(connect());
    const member = timerMember(randomUUID(), "deadline");
    await redis.zadd(keys.due, Date.now() - 10, member); // due by Redis's clock already

    const behind = await scripts.signoffTimerClaim(
      keys.due,
      keys.claimed,
      keys.claims,
      6_000,
      10,
      Date.now() - 1_000,
      "a",
    );
    const onTime = await scripts.signoffTimerClaim(keys.due, keys.claimed, keys.claims, 6_000, 10, Date.now(), "a");

    expect(behind[1], "a caller whose clock is behind would find it not due yet").toEqual([]);
    expect(onTime[1].filter((_, i) => i % 2 === 0)).toEqual([member]);
  });

  it("does not claim a due timer that another worker is running", async () => {
    const { keys } = fresh();
    const scripts = timerScripts(connect());
    const [busy, free] = [timerMember(randomUUID(), "deadline"), timerMember(randomUUID(), "deadline")];
    await redis.zadd(keys.claimed, Date.now() + 60_000, busy);
    await redis.hset(keys.claims, busy, `${Date.now()} worker-b`);
    await redis.zadd(keys.due, Date.now() - 10, busy, Date.now() - 5, free);

    const [, claimed] = await scripts.signoffTimerClaim(
      keys.due,
      keys.claimed,
      keys.claims,
      6_000,
      10,
      Date.now(),
      "worker-a",
    );

    expect(claimed.filter((_, i) => i % 2 === 0)).toEqual([free]);
    expect(await redis.zrange(keys.due, "0", "-1")).toEqual([busy]);
  });
});

describe("retireBullmqTimers", () => {
  it("removes the timer jobs an earlier release left, and only once", async () => {
    const { prefix } = fresh();
    const connection = connect();
    const old = new Queue("timers", { connection, prefix });
    await old.add("deadline", { approvalId: randomUUID(), kind: "deadline" }, { jobId: "deadline-x", delay: 60_000 });
    await old.close();
    expect((await redis.keys(`${prefix}:timers:*`)).length).toBeGreaterThan(0);

    expect(await retireBullmqTimers(connection, prefix)).toBe(true);

    expect(await redis.keys(`${prefix}:timers:*`)).toEqual([]);
    expect(await retireBullmqTimers(connection, prefix)).toBe(false);
  });
});
