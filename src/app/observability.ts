/**
 * What operators of signoff see of it: one `info` line per event that matters (approval created
 * and decided, webhook delivered or dead-lettered, channel connected or disconnected) and the
 * Prometheus counters beside them. Handlers and jobs only call the observers given to them; this
 * module turns those calls into log lines and metrics, so neither prom-client nor log wording
 * leaks into the use cases.
 */
import { createMetrics, type DecidedByKind, type Metrics } from "../api/metrics.js";
import type { Approval, Decision } from "../domain/approval.js";
import { ChannelError, type Channel } from "../domain/channel.js";
import type { OutboxJob } from "../domain/outbox.js";
import type { ApprovalObserver } from "../handlers/approvals/approval-service.js";
import type { DeliveryAttempt } from "../jobs/callback-queue.js";
import { chatOf } from "../jobs/outbox-queue.js";
import type { TimerObserver } from "../jobs/timer-worker.js";
import type { Logger } from "../logger.js";

/** Who ended an approval, as a bounded metric label: operator names become `operator`. */
export function decidedByKind(approval: Pick<Approval, "status" | "decidedBy">): DecidedByKind {
  const by = approval.decidedBy ?? "";
  if (by === "policy" || by === "objection-window" || by === "timeout") return by;
  if (by === "rule" || by.startsWith("rule:")) return "rule";
  // A cancel is the source withdrawing its own request (decidedBy names the source).
  if (approval.status === "cancelled") return "source";
  return "operator";
}

/** How it was decided, for the log line: the operator's channel, or the kind of automatic end. */
export function howDecided(approval: Pick<Approval, "status" | "decidedBy">, decision: Decision | null): string {
  const kind = decidedByKind(approval);
  if (kind === "operator") return decision?.channel ?? "unknown";
  return kind === "source" ? "cancel" : kind;
}

/** A send's result label: a platform rate limit (it said when to retry) is `429`. */
export function sendResult(error: unknown): "429" | "error" {
  return error instanceof ChannelError && !error.permanent && error.retryAfterMs !== undefined ? "429" : "error";
}

/** The observers every part is given, and the metrics behind them. */
export interface Observability {
  metrics: Metrics;
  approvals: ApprovalObserver;
  timers: TimerObserver;
  deliveryAttempt(attempt: DeliveryAttempt): void;
  /** Wrap the outbox's perform so every send and edit is counted by channel and result. */
  countSends(perform: (job: OutboxJob) => Promise<void>): (job: OutboxJob) => Promise<void>;
  /**
   * Log `channel connected` / `channel disconnected` when a channel's health changes, checked
   * every `everyMs`. Returns the function that stops watching.
   */
  watchChannels(channels: () => Iterable<Channel>, everyMs?: number): () => void;
}

/** Build the observers on a fresh metrics registry (one per signoff instance). */
export function createObservability(logger: Logger): Observability {
  const metrics = createMetrics();
  const approvalLog = logger.child({ component: "approvals" });
  const deliveryLog = logger.child({ queue: "deliveries" });
  const channelLog = logger.child({ component: "channels" });

  const approvals: ApprovalObserver = {
    created(approval) {
      metrics.approvalCreated(approval.gate);
      approvalLog.info(
        { approvalId: approval.id, code: approval.code, gate: approval.gate, source: approval.source },
        "approval created",
      );
    },
    decided(approval, decision) {
      const latencyMs = (approval.decidedAt ?? new Date()).getTime() - approval.createdAt.getTime();
      metrics.approvalDecided(approval.status, decidedByKind(approval), latencyMs / 1000);
      approvalLog.info(
        {
          approvalId: approval.id,
          code: approval.code,
          status: approval.status,
          decidedBy: approval.decidedBy,
          how: howDecided(approval, decision),
          latencyMs,
        },
        "approval decided",
      );
    },
  };

  return {
    metrics,
    approvals,
    timers: { ran: (latenessMs) => metrics.timerRan(latenessMs / 1000) },
    deliveryAttempt(attempt) {
      metrics.callbackAttempted(attempt.result);
      if (attempt.result === "retried") return; // each failed attempt already has its warning
      const subject =
        attempt.kind === "callback" ? { approvalId: attempt.subjectId } : { commandId: attempt.subjectId };
      deliveryLog.info(
        { ...subject, deliveryId: attempt.deliveryId, attempts: attempt.attempts },
        `${attempt.kind} ${attempt.result === "dead" ? "dead-lettered" : "delivered"}`,
      );
    },
    countSends(perform) {
      return async (job) => {
        const { channel } = chatOf(job);
        try {
          await perform(job);
        } catch (error) {
          metrics.outboxSent(channel, sendResult(error));
          throw error;
        }
        metrics.outboxSent(channel, "ok");
      };
    },
    watchChannels(channels, everyMs = 1000) {
      const up = new Map<string, boolean>();
      const check = () => {
        for (const channel of channels()) {
          let ok: boolean;
          try {
            ok = channel.health().ok;
          } catch {
            ok = false;
          }
          const was = up.get(channel.name);
          up.set(channel.name, ok);
          // A channel that never came up is not "disconnected"; its start-up already said why.
          if (ok && was !== true) channelLog.info({ channel: channel.name }, "channel connected");
          else if (!ok && was === true) channelLog.info({ channel: channel.name }, "channel disconnected");
        }
      };
      const timer = setInterval(check, everyMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
