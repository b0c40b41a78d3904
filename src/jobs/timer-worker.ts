/**
 * The worker that runs due timers: it claims them from the timer set (see timer-queue.ts) in
 * batches, runs each with the approval service, and records what became of them in one call per
 * turn. Claims are renewed while their timers run, and lapse if this process dies, so another
 * process takes them over.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import type { TimerKind } from "../domain/approval.js";
import type { ApprovalService } from "../handlers/approvals/approval-service.js";
import { plannedTimers } from "../handlers/approvals/approval-machine.js";
import { isPermanentJobError } from "./job-errors.js";
import { TIMER_QUEUE, type TimerWakeups, timerKeys, timerScripts } from "./timer-queue.js";

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
