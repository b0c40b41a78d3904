/**
 * Prometheus metrics served at `/metrics`. Several signoff processes may run side by side, so
 * there are two kinds: counters and histograms count what happened in this process (Prometheus
 * sums them over instances), while gauges are read from the source of truth at scrape time
 * (PostgreSQL, Redis, the channels), so every process reports the same, true value. Every
 * scrape-time read has its own time limit: a dependency that hangs never makes a scrape hang.
 * Label values come from small fixed sets (gates, statuses, channel names, results), never from
 * operator names or ids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { singleFlight } from "../lib/single-flight.js";
import { withTimeout } from "../lib/with-timeout.js";

/** Who ended an approval, as a bounded label (an operator's name never becomes a label value). */
export type DecidedByKind = "operator" | "policy" | "objection-window" | "timeout" | "rule" | "source";

/** How one outbox send ended: sent, refused for now by the platform's rate limit, or failed. */
export type SendResult = "ok" | "429" | "error";

/** How one webhook attempt ended: delivered, failed with retries left, or dead-lettered. */
export type CallbackResult = "delivered" | "retried" | "dead";

/** Queue states reported by `signoff_queue_jobs` (BullMQ's names). */
export const QUEUE_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "failed"] as const;
type QueueState = (typeof QUEUE_STATES)[number];

/** The registry and what the app reports to it. */
export interface Metrics {
  registry: Registry;
  approvalCreated(gate: string): void;
  /** An approval left `pending`; `seconds` since it was created. */
  approvalDecided(status: string, decidedByKind: DecidedByKind, seconds: number): void;
  /** A timer took effect `seconds` after it was due. */
  timerRan(latenessSeconds: number): void;
  outboxSent(channel: string, result: SendResult): void;
  callbackAttempted(result: CallbackResult): void;
}

// Decisions range from instant (policy) to the default 4 h deadline and beyond.
const DECISION_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400];
// Timers should run within milliseconds of their due time; seconds late is an alert.
const LATENESS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Build a fresh registry with the process defaults and the counters (one per signoff instance). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const created = new Counter({
    name: "signoff_approvals_created_total",
    help: "Approvals created by this process, by the gate the source asked for",
    labelNames: ["gate"],
    registers,
  });
  const decisions = new Counter({
    name: "signoff_decisions_total",
    help: "Approvals decided by this process, by final status and by what decided them",
    labelNames: ["status", "decided_by_kind"],
    registers,
  });
  const decisionSeconds = new Histogram({
    name: "signoff_decision_seconds",
    help: "Time from an approval's creation to its decision",
    buckets: DECISION_BUCKETS,
    registers,
  });
  const lateness = new Histogram({
    name: "signoff_timer_lateness_seconds",
    help: "How long after its due time an objection-window or deadline timer took effect",
    buckets: LATENESS_BUCKETS,
    registers,
  });
  const sends = new Counter({
    name: "signoff_outbox_sends_total",
    help: "Chat sends and edits attempted by this process's outbox, by channel and result (ok, 429, error)",
    labelNames: ["channel", "result"],
    registers,
  });
  const callbacks = new Counter({
    name: "signoff_callbacks_total",
    help: "Signed webhook attempts (approval callbacks, commands to sources) by result",
    labelNames: ["result"],
    registers,
  });
  // Known from the start, so a rate over "dead" is 0 rather than absent before the first one.
  for (const result of ["delivered", "retried", "dead"] as const) callbacks.inc({ result }, 0);
  return {
    registry,
    approvalCreated: (gate) => created.inc({ gate }),
    approvalDecided(status, decidedByKind, seconds) {
      decisions.inc({ status, decided_by_kind: decidedByKind });
      decisionSeconds.observe(Math.max(0, seconds));
    },
    // A timer that ran a little early (clocks of two processes) counts as on time.
    timerRan: (seconds) => lateness.observe(Math.max(0, seconds)),
    outboxSent: (channel, result) => sends.inc({ channel, result }),
    callbackAttempted: (result) => callbacks.inc({ result }),
  };
}

/** Where the scrape-time gauges read from. */
export interface ScrapeSources {
  /** Pending approvals in PostgreSQL. */
  countPending(): Promise<number>;
  /** The queues; `name` is the queue's own (timers, deliveries, outbox, ops). */
  queues: ReadonlyArray<{ name: string; getJobCounts(...states: QueueState[]): Promise<Record<string, number>> }>;
  /** The channels running in this process. */
  channels(): Iterable<{ name: string; health(): { ok: boolean } }>;
  /** Dependencies (postgres, redis) and how to check each. */
  dependencies: ReadonlyArray<{ name: string; check(): Promise<{ ok: boolean }> }>;
}

/**
 * Register the gauges read at scrape time. Each read waits at most `timeoutMs`; a read that fails
 * or times out keeps the gauge's last value (a dependency check counts as down instead), so the
 * scrape still answers and `signoff_dependency_up` says what is missing.
 */
export function readAtScrape(registry: Registry, sources: ScrapeSources, options: { timeoutMs?: number } = {}): void {
  const registers = [registry];
  const bounded = <T>(read: () => Promise<T>) => withTimeout(read(), options.timeoutMs ?? 1000);
  // Scrapes that overlap (several Prometheus servers, a slow PostgreSQL) share one query.
  const countPending = singleFlight(() => sources.countPending());
  new Gauge({
    name: "signoff_pending_approvals",
    help: "Approvals waiting for a decision (read from PostgreSQL at scrape time)",
    registers,
    async collect() {
      const pending = await bounded(countPending).catch(() => null);
      if (pending !== null) this.set(pending);
    },
  });
  new Gauge({
    name: "signoff_queue_jobs",
    help: "Jobs in each queue by state; timers: delayed = scheduled (or waiting to retry), active = claimed (read from Redis at scrape time)",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      await Promise.all(
        sources.queues.map(async (queue) => {
          const counts = await bounded(() => queue.getJobCounts(...QUEUE_STATES)).catch(() => null);
          if (!counts) return;
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }),
      );
    },
  });
  new Gauge({
    name: "signoff_channel_up",
    help: "1 when the chat channel is connected and working, 0 otherwise",
    labelNames: ["channel"],
    registers,
    collect() {
      for (const channel of sources.channels()) this.set({ channel: channel.name }, safeHealth(channel) ? 1 : 0);
    },
  });
  new Gauge({
    name: "signoff_dependency_up",
    help: "1 when the dependency (postgres, redis) answers its health check, 0 otherwise",
    labelNames: ["dependency"],
    registers,
    async collect() {
      await Promise.all(
        sources.dependencies.map(async (dependency) => {
          const result = await bounded(() => dependency.check()).catch(() => ({ ok: false }));
          this.set({ dependency: dependency.name }, result.ok ? 1 : 0);
        }),
      );
    },
  });
}

function safeHealth(channel: { health(): { ok: boolean } }): boolean {
  try {
    return channel.health().ok;
  } catch {
    return false;
  }
}
