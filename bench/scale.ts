/**
 * Cost that must not grow with the backlog: signoff as a real process on 100,000 pending
 * `medium` approvals (seeded in bulk, see scale-backlog.ts), its start-up, its memory and CPU
 * while idle and during periodic reconciles, and how fast it creates approvals; plus 50,000
 * objection windows ending over 10 s. Every section seeds its own schema and prefix and drops
 * them after.
 */
import { measureCreates } from "./api-create.js";
import type { BenchResult } from "./run.js";
import { meetsAll } from "./stats.js";
import { pollHealth, readCpuSeconds, readMemory, waitForQuiet, watchMemory } from "./process-watch.js";
import {
  type Backlog,
  dropBacklog,
  flushBacklogKeys,
  RECONCILED_LINE,
  seedBacklog,
  spawnScaleProcess,
} from "./scale-backlog.js";
import { benchTimerLateness } from "./timer-lateness.js";

const PENDING = Number(process.env.BENCH_SCALE_PENDING ?? 100_000);
const CREATES = Number(process.env.BENCH_SCALE_CREATES ?? 10_000);
const TIMERS = Number(process.env.BENCH_SCALE_TIMERS ?? 50_000);
// The periodic reconcile's interval in scale-idle, and how long its effect is watched.
const RECONCILE_SECONDS = 20;
const IDLE_WINDOW_MS = 60_000;

const round = (n: number, places = 2) => Math.round(n * 10 ** places) / 10 ** places;
const seconds = (ms: number) => round(ms / 1000);

/** What one start on the backlog cost: seconds since spawn, MB. */
async function measureStart(backlog: Backlog) {
  const signoff = await spawnScaleProcess(backlog);
  const memory = watchMemory(signoff.pid);
  try {
    const [health, reconciledMs] = await Promise.all([pollHealth(signoff.url), signoff.logged(RECONCILED_LINE)]);
    const hwm = readMemory(signoff.pid)?.hwmMb ?? NaN;
    return {
      healthAnswerS: seconds(health.firstAnswerMs),
      healthOkS: seconds(health.firstOkMs),
      reconcileS: seconds(reconciledMs),
      peakRssMb: round(memory.max(), 0),
      hwmMb: round(hwm, 0),
    };
  } finally {
    memory.stop();
    await signoff.stop();
  }
}

/** Start-up on the backlog after its prefix's Redis keys were deleted, then with them intact. */
export async function benchScaleStartup(): Promise<BenchResult> {
  const backlog = await seedBacklog(PENDING);
  try {
    await flushBacklogKeys(backlog); // the backlog's own keys only, never the shared Redis
    const flushed = await measureStart(backlog);
    const intact = await measureStart(backlog);
    const metrics = {
      pending: backlog.pending,
      seedS: round(backlog.seedSeconds),
      ...intact,
      ...Object.fromEntries(Object.entries(flushed).map(([k, v]) => [`afterFlush.${k}`, v])),
    };
    const targets = { healthAnswerS: "≤ 2", healthOkS: "≤ 2", peakRssMb: "≤ 300", reconcileS: "≤ 20" };
    const allTargets = {
      ...targets,
      ...Object.fromEntries(Object.entries(targets).map(([k, v]) => [`afterFlush.${k}`, v])),
    };
    return { name: "scale-startup", metrics, targets: allTargets, met: meetsAll(metrics, allTargets) };
  } finally {
    await dropBacklog(backlog);
  }
}

/**
 * Memory once start-up is done (the median over 10 s, before the first periodic reconcile), then
 * the peak and the CPU used over a minute of periodic reconciles every {@link RECONCILE_SECONDS} s.
 */
export async function benchScaleIdle(): Promise<BenchResult> {
  const backlog = await seedBacklog(PENDING);
  try {
    const signoff = await spawnScaleProcess(backlog, { SIGNOFF_RECONCILE_SECONDS: String(RECONCILE_SECONDS) });
    const memory = watchMemory(signoff.pid);
    try {
      await signoff.logged(RECONCILED_LINE);
      // The periodic reconcile's clock starts when start-up's reconcile is done.
      const reconciledAt = memory.now();
      const sleepUntil = (ms: number) =>
        new Promise((r) => setTimeout(r, Math.max(0, reconciledAt + ms - memory.now())));
      await sleepUntil(13_000);
      const idleRssMb = memory.median(reconciledAt + 3_000, reconciledAt + 13_000);
      const windowFrom = memory.now();
      const cpuBefore = readCpuSeconds(signoff.pid);
      await sleepUntil(13_000 + IDLE_WINDOW_MS);
      const cpuSeconds = readCpuSeconds(signoff.pid) - cpuBefore;
      const metrics = {
        pending: backlog.pending,
        idleRssMb: round(idleRssMb, 0),
        periodicPeakRssMb: round(memory.max(windowFrom), 0),
        periodicCpuS: round(cpuSeconds),
        periodicCpuPercent: round((cpuSeconds / (IDLE_WINDOW_MS / 1000)) * 100, 1),
        hwmMb: round(readMemory(signoff.pid)?.hwmMb ?? NaN, 0),
      };
      const targets = { idleRssMb: "≤ 200", periodicPeakRssMb: "≤ 300" };
      return { name: "scale-idle", metrics, targets, met: meetsAll(metrics, targets) };
    } finally {
      memory.stop();
      await signoff.stop();
    }
  } finally {
    await dropBacklog(backlog);
  }
}

/**
 * Create rate of 50 clients on an empty schema, then on the backlog: the same process settings,
 * each measured once start-up's work (reconcile, cards shown again) is done.
 */
export async function benchScaleCreate(): Promise<BenchResult> {
  const createOn = async (pending: number) => {
    const backlog = await seedBacklog(pending);
    try {
      const signoff = await spawnScaleProcess(backlog);
      try {
        await signoff.logged(RECONCILED_LINE);
        await signoff.logged('"signoff started"');
        // Cards the start re-shows may still be going out: measure creating, not that.
        const quietMs = await waitForQuiet(signoff.pid);
        return { pending: backlog.pending, quietS: seconds(quietMs), ...(await measureCreates(signoff.url, CREATES)) };
      } finally {
        await signoff.stop();
      }
    } finally {
      await dropBacklog(backlog);
    }
  };
  const empty = await createOn(1); // the one approval seeding creates through the API
  const full = await createOn(PENDING);
  const metrics = {
    "empty.perSecond": round(empty.perSecond, 0),
    "empty.p99Ms": round(empty.p99Ms, 1),
    "backlog.pending": full.pending,
    "backlog.quietAfterStartS": full.quietS,
    "backlog.perSecond": round(full.perSecond, 0),
    "backlog.p99Ms": round(full.p99Ms, 1),
    ratio: round(full.perSecond / empty.perSecond, 3),
    failures: empty.failures + full.failures,
  };
  const targets = { ratio: "≥ 0.9", failures: "= 0" };
  return { name: "scale-create", metrics, targets, met: meetsAll(metrics, targets) };
}

/** 50,000 low windows ending over 10 s (5,000 a second). */
export function benchScaleTimers(): Promise<BenchResult> {
  return benchTimerLateness({ name: "scale-timers", count: TIMERS, spreadMs: 10_000, msPerCreate: 3 });
}
