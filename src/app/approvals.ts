/**
 * The approval engine: its stores, the timer and callback queues, the decision bus, the card
 * presenter and the approval service, plus the reconcile that re-creates from PostgreSQL whatever
 * Redis or a restarted channel lost.
 */
import type { Config } from "../config.js";
import { createApprovalService, type ApprovalService } from "../handlers/approvals/approval-service.js";
import { createPendingCodeLengths } from "../handlers/approvals/approval-codes.js";
import { createCardPresenter, type CardPresenter } from "../handlers/approvals/card-presenter.js";
import type { OperatorDirectory } from "../handlers/chat/operators.js";
import type { Renderer } from "../handlers/chat/render.js";
import { createDeliveryQueue } from "../jobs/callback-queue.js";
import { createDecisionBus, type DecisionBus } from "../jobs/decision-bus.js";
import { reconcile, type ReconcileReport } from "../jobs/reconciler.js";
import { singleFlight } from "../lib/single-flight.js";
import { createPendingPages, type PendingPages } from "../store/pending-pages.js";
import { createTimerQueue } from "../jobs/timer-queue.js";
import type { Logger } from "../logger.js";
import { createApprovalStore, type ApprovalStore } from "../store/approval-store.js";
import { createAuditStore, type AuditStore } from "../store/audit-store.js";
import { createChatStore, type ChatStore } from "../store/chat-store.js";
import { createDeliveryStore, type DeliveryStore } from "../store/delivery-store.js";
import { createSettingsStore, type SettingsStore } from "../store/settings-store.js";
import { createRuleStore } from "../store/rule-store.js";
import { createRuleBook, type RuleBook } from "../handlers/approvals/rules.js";
import { createPresenceStore, type PresenceStore } from "../store/presence-store.js";
import { createBreakerCounts } from "../store/breaker-counts.js";
import { createBreaker, type Breaker } from "../handlers/approvals/breaker.js";
import { createBroadcaster } from "../handlers/chat/broadcast.js";
import type { ChannelParts } from "./channels.js";
import type { Infrastructure } from "./infrastructure.js";

/** How far the reconcile in progress got (for `/api/health`). */
export interface ReconcileProgress {
  running: boolean;
  /** Pending approvals walked so far in the current (or last) run. */
  walked: number;
  /** Pending approvals when the current (or last) run began. */
  pending: number | null;
  lastFinishedAt: string | null;
}

/** The approval engine's parts. */
export interface ApprovalParts {
  approvals: ApprovalStore;
  audit: AuditStore;
  deliveries: DeliveryStore;
  settings: SettingsStore;
  chat: ChatStore;
  timers: ReturnType<typeof createTimerQueue>;
  delivery: ReturnType<typeof createDeliveryQueue>;
  bus: DecisionBus;
  presenter: CardPresenter;
  service: ApprovalService;
  /** Standing approvals ("✅ always"). */
  rules: RuleBook;
  /** Who is away and who answers for them. */
  presence: PresenceStore;
  /** Pauses autonomy when rejections, failed tasks or dead letters cross their limits. */
  breaker: Breaker;
  /** Re-create timers, deliveries and lost cards from PostgreSQL (safe to run any time). */
  reconcile(): Promise<ReconcileReport>;
  /** Where a reconcile is: running or not, and how far the walk over pending approvals got. */
  reconcileProgress(): ReconcileProgress;
}

/** Build the approval engine on the infrastructure and the channels' outbox. */
export async function wireApprovals(
  infra: Infrastructure,
  chatSide: ChannelParts,
  wiring: { config: Readonly<Config>; logger: Logger; directory: OperatorDirectory; renderer: Renderer },
): Promise<ApprovalParts> {
  const { env, file } = wiring.config;
  const { directory, logger } = wiring;
  const prefix = env.SIGNOFF_QUEUE_PREFIX;
  const { db } = infra;
  const approvals = createApprovalStore(db);
  const audit = createAuditStore(db);
  const deliveries = createDeliveryStore(db);
  const settings = createSettingsStore(db);
  const chat = createChatStore(db);
  const rules = createRuleBook({
    store: createRuleStore(db),
    operators: directory,
    expiryDays: file.approvals.ruleExpiryDays,
  });

  const timers = createTimerQueue(infra.producer, prefix);
  const delivery = createDeliveryQueue(infra.producer, prefix, {
    attempts: file.approvals.callbackAttempts,
    backoffMs: file.approvals.callbackBackoffMs,
    timeoutMs: file.approvals.callbackTimeoutMs,
  });
  delivery.queue.on("error", (err) =>
    infra.outageLog.warn(
      `queue:${delivery.queue.name}`,
      { queue: delivery.queue.name, err: err.message },
      "queue error",
    ),
  );
  const bus = await createDecisionBus(infra.producer, infra.subscriber, prefix);

  const presence = createPresenceStore(db);
  const breaker = createBreaker({
    rules: file.breaker ?? { windowSeconds: 600 },
    counts: createBreakerCounts(db),
    settings,
    broadcaster: createBroadcaster({
      directory,
      channels: () => [...chatSide.channels.keys()],
      renderer: wiring.renderer,
      enqueue: chatSide.outbox.enqueue,
    }),
    now: () => new Date(),
    logger: logger.child({ component: "breaker" }),
  });
  const presenter = createCardPresenter({
    absences: presence.active,
    directory,
    channels: chatSide.channels,
    renderer: wiring.renderer,
    chat,
    approvals,
    enqueue: chatSide.outbox.enqueue,
    telegramGroupChat: file.approvals.telegramChat,
    localChannels: chatSide.localChannels,
    defaultTimezone: file.timezone,
    timers: timers.scheduler,
  });
  const service = createApprovalService({
    approvals,
    audit,
    settings,
    timers: timers.scheduler,
    callbacks: { enqueue: delivery.enqueue },
    presenter,
    decisions: bus,
    defaults: {
      deadlineSeconds: file.approvals.deadlineSeconds,
      objectionSeconds: file.approvals.objectionSeconds,
      remindAt: file.approvals.remindAt,
      escalate: file.approvals.escalate,
    },
    eligibleApprovers: (roles) => directory.all().filter((o) => o.roles.some((r) => roles.includes(r))).length,
    operators: directory,
    logger: logger.child({ component: "approvals" }),
    observe: {
      created: (approval) => chatSide.observe.approvals.created(approval),
      decided(approval, decision) {
        chatSide.observe.approvals.decided(approval, decision);
        // An operator's rejection may trip the circuit breaker (counted in PostgreSQL, across processes).
        if (approval.status === "rejected" && decision?.verdict === "reject")
          void breaker
            .check("rejections")
            .catch((err) => logger.warn({ err: (err as Error).message }, "breaker check failed"));
      },
    },
    rules,
    // Code length follows the pending count, so creates stay ~1 insert however many wait.
    codes: {
      lengths: createPendingCodeLengths({
        countPending: approvals.countPending,
        logger: logger.child({ component: "codes" }),
      }),
    },
  });

  // A restarted web chat lost its cards: the reconcile posts them again there (and only there).
  const cards = {
    listCardRefs: chat.listCardRefs,
    announce: presenter.announce,
    channels: chatSide.channels,
    directory,
    enqueue: chatSide.outbox.enqueue,
    // Renders the one line that stands for the cards a restarted chat does not get back.
    renderer: wiring.renderer,
    // The web chat delivers in process: each page's re-posted cards go out before the next page.
    settle: chatSide.outbox.drainLocal,
  };
  // Pages of 1,000 ids: memory holds one page, and the count of ids walked is the progress.
  const progress: ReconcileProgress = { running: false, walked: 0, pending: null, lastFinishedAt: null };
  const pendingPages = createPendingPages(db);
  const pages: PendingPages = {
    async pendingApprovalIds(afterId, limit) {
      const ids = await pendingPages.pendingApprovalIds(afterId, limit);
      progress.walked += ids.length;
      return ids;
    },
    pendingDeliveryIds: pendingPages.pendingDeliveryIds,
  };
  const reconcileDeps = { approvals, deliveries, timers: timers.scheduler, deliveryQueue: delivery, cards, pages };
  // Start-up, periodic and Redis-loss runs share one walk when they overlap.
  const runReconcile = singleFlight(async () => {
    progress.running = true;
    progress.walked = 0;
    progress.pending = await approvals.countPending().catch(() => null);
    try {
      return await reconcile(reconcileDeps);
    } finally {
      progress.running = false;
      progress.lastFinishedAt = new Date().toISOString();
    }
  });

  return {
    approvals,
    audit,
    deliveries,
    settings,
    chat,
    timers,
    delivery,
    bus,
    presenter,
    service,
    rules,
    presence,
    breaker,
    reconcile: runReconcile,
    reconcileProgress: () => ({ ...progress }),
  };
}
