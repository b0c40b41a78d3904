/**
 * Objection-window and deadline timers as BullMQ delayed jobs, one per approval and kind with a
 * deterministic id (`deadline-<uuid>`), so scheduling twice is harmless and several processes
 * share the work. PostgreSQL decides with a compare-and-set, so a timer counts at most once.
 */
import { failPermanentErrorsAtOnce } from "./job-errors.js";
import { RESUMABLE_WORKER_OPTIONS } from "./worker-options.js";
import { DelayedError, Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { TimerKind } from "../domain/approval.js";
import type { ApprovalService, TimerScheduler } from "../handlers/approvals/approval-service.js";
import { plannedTimers } from "../handlers/approvals/approval-machine.js";
import { defineScripts } from "./redis/scripts.js";

interface TimerJobData {
  approvalId: string;
  kind: TimerKind;
  /** When the timer is due (epoch ms), to measure how late it ran; absent on jobs queued before. */
  dueAt?: number;
}

/** The queue name (under the configured prefix). */
export const TIMER_QUEUE = "timers";

const jobId = (approvalId: string, kind: TimerKind) => `${kind}-${approvalId}`;

/** A timer the reconcile wants to exist. */
export interface TimerToEnsure {
  approvalId: string;
  kind: TimerKind;
  dueAt: Date;
}

/** The scheduler of approval timers, plus what the reconcile uses to re-create lost ones. */
export interface TimerQueueScheduler extends TimerScheduler {
  /** Like schedule, but replaces a finished or failed job of the same id. */
  ensure(approvalId: string, kind: TimerKind, dueAt: Date): Promise<void>;
  /**
   * Ensure many timers at a cost of one Redis call per 1,000 of them while their jobs are
   * intact; only the ones lost, failed or finished are scheduled again. Resolves with how many
   * the check found lost, failed or finished.
   */
  ensureAll(timers: readonly TimerToEnsure[]): Promise<number>;
}

/** Job ids checked per script call: bounds how long one call holds Redis (~1 ms per 1,000). */
const CHECK_BATCH = 1000;

interface TimerCommands {
  signoffTimerJobsToRepair(...keysThenArgs: string[]): Promise<number[]>;
}

/** Create the timer queue and its {@link TimerScheduler}. */
export function createTimerQueue(connection: Redis, prefix: string) {
  const queue = new Queue<TimerJobData>(TIMER_QUEUE, {
    connection,
    prefix,
    // A timer that fails (PostgreSQL briefly down) retries for ~14 min (200 ms doubling, 12
    // attempts); past that, the periodic reconcile re-creates it.
    defaultJobOptions: {
      removeOnComplete: true,
      removeOnFail: 1000,
      attempts: 12,
      backoff: { type: "exponential", delay: 200 },
    },
  });

  const redis = defineScripts<TimerCommands>(connection, {
    signoffTimerJobsToRepair: { file: new URL("./timer-jobs-to-repair.lua", import.meta.url), numberOfKeys: 5 },
  });
  // In the order the script's header names them.
  const stateKeys = ["delayed", "prioritized", "active", "wait", "paused"].map((type) => queue.toKey(type));
  const jobKeyPrefix = queue.toKey("");

  const scheduler: TimerQueueScheduler = {
    async schedule(approvalId, kind, dueAt) {
      await queue.add(
        kind,
        { approvalId, kind, dueAt: dueAt.getTime() },
        { jobId: jobId(approvalId, kind), delay: Math.max(0, dueAt.getTime() - Date.now()) },
      );
    },
    async ensure(approvalId, kind, dueAt) {
      const existing = await queue.getJob(jobId(approvalId, kind));
      if (existing) {
        const state = await existing.getState();
        if (state === "delayed" || state === "waiting" || state === "active" || state === "prioritized") return;
        await existing.remove().catch(() => undefined);
      }
      await scheduler.schedule(approvalId, kind, dueAt);
    },
    async ensureAll(timers) {
      let repaired = 0;
      for (let from = 0; from < timers.length; from += CHECK_BATCH) {
        const batch = timers.slice(from, from + CHECK_BATCH);
        const ids = batch.map((t) => jobId(t.approvalId, t.kind));
        const positions = await redis.signoffTimerJobsToRepair(...stateKeys, jobKeyPrefix, ...ids);
        await Promise.all(
          positions.map((p) => {
            const t = batch[Math.abs(p) - 1]!;
            // A job that is gone is added at once (adding an id that exists meanwhile does
            // nothing); one still there is looked at again, as it may have moved on since.
            return p > 0
              ? scheduler.schedule(t.approvalId, t.kind, t.dueAt)
              : scheduler.ensure(t.approvalId, t.kind, t.dueAt);
          }),
        );
        repaired += positions.length;
      }
      return repaired;
    },
    async cancel(approvalId, kind) {
      await queue.remove(jobId(approvalId, kind));
    },
  };
  return { queue, scheduler };
}

/** Told how late each timer took effect (metrics). */
export interface TimerObserver {
  ran(latenessMs: number): void;
}

/**
 * The worker that fires timers; `concurrency` bounds simultaneous decisions. A timer whose
 * approval no longer exists fails at once; other errors retry with the queue's backoff.
 */
export function createTimerWorker(
  connection: Redis,
  prefix: string,
  service: Pick<ApprovalService, "fireTimer">,
  concurrency = 50,
  observe?: TimerObserver,
) {
  return new Worker<TimerJobData>(
    TIMER_QUEUE,
    failPermanentErrorsAtOnce(async (job: Job<TimerJobData>, token?: string) => {
      const startedAt = Date.now();
      const result = await service.fireTimer(job.data.approvalId, job.data.kind);
      if (result.outcome === "ignored") {
        // Fired early (clocks of two processes disagree), or the window moved later while it ran:
        // a notice landed late, between this timer reading "nobody saw it" and its escalation
        // reading "seen after all". The job is the window's only timer, so it must wait for the
        // rest of the time instead of completing; lateness is measured against the new due time.
        const plan = plannedTimers(result.approval).find((t) => t.kind === job.data.kind);
        const wasDueAt = job.data.dueAt ?? job.timestamp + (job.opts.delay ?? 0);
        if (plan && (result.reason === "timer_not_due" || plan.dueAt.getTime() > wasDueAt)) {
          await job.updateData({ ...job.data, dueAt: plan.dueAt.getTime() });
          await job.moveToDelayed(plan.dueAt.getTime(), token);
          throw new DelayedError();
        }
      }
      // Measured once, on the run that took effect: retries after a failure count as lateness.
      const dueAt = job.data.dueAt ?? job.timestamp + (job.opts.delay ?? 0);
      try {
        observe?.ran(startedAt - dueAt);
      } catch {
        // Measuring a timer must never make it fail and run again.
      }
      return result.outcome;
    }),
    { connection, prefix, concurrency, ...RESUMABLE_WORKER_OPTIONS },
  );
}
