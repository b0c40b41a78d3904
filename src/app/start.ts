/**
 * Composition root: config → logger → infrastructure → channels → approval engine → chat-ops →
 * workers → HTTP. The only place that builds concrete objects; tests call {@link startSignoff}
 * with their own schema, queue prefix and channels.
 */
import type { Config } from "../config.js";
import type { Channel, ChannelName } from "../domain/channel.js";
import { PLATFORMS } from "../bot/platforms.js";
import type { WebchatChannel } from "../bot/webchat/webchat-channel.js";
import type { ApprovalService } from "../handlers/approvals/approval-service.js";
import type { CardPresenter } from "../handlers/approvals/card-presenter.js";
import type { ChatHandler } from "../handlers/chat/chat-handler.js";
import { createOperatorDirectory, type OperatorDirectory } from "../handlers/chat/operators.js";
import { createRenderer } from "../handlers/chat/render.js";
import { startAuditSealer } from "../jobs/audit-sealer.js";
import type { ReconcileReport } from "../jobs/reconciler.js";
import { watchRedis } from "../jobs/redis/connections.js";
import { every } from "../lib/every.js";
import { createLogger, type Logger } from "../logger.js";
import type { ApprovalStore } from "../store/approval-store.js";
import type { AuditStore } from "../store/audit-store.js";
import type { Database } from "../store/db.js";
import type { DeliveryStore } from "../store/delivery-store.js";
import type { SettingsStore } from "../store/settings-store.js";
import { wireApprovals } from "./approvals.js";
import { wireChannels } from "./channels.js";
import { retireBullmqTimers } from "../jobs/timer-queue.js";
import { type OpsParts, wireChatOps } from "./chat-ops.js";
import { wireHttp } from "./http.js";
import { startInfrastructure } from "./infrastructure.js";
import { createShutdownSteps } from "./shutdown.js";
import { startWorkers } from "./workers.js";

export type { OpsParts } from "./chat-ops.js";

/** Overrides for tests and embedding. */
export interface StartOptions {
  config: Readonly<Config>;
  logger?: Logger;
  /** Extra channels built by the caller (e.g. Telegram against a fake Bot API). */
  channels?: Channel[];
  /** Start the job workers (default true); the benchmark runs some with other settings. */
  workers?: boolean;
  /** Timers run at once (their reads and writes share statements). @defaultValue 500 */
  timerConcurrency?: number;
  /** Clock of the chat-ops features; tests fix it to get exact replies. */
  now?: () => Date;
}

/** A running signoff. */
export interface Signoff {
  config: Readonly<Config>;
  logger: Logger;
  db: Database;
  url: string;
  service: ApprovalService;
  presenter: CardPresenter;
  chatHandler: ChatHandler;
  directory: OperatorDirectory;
  approvals: ApprovalStore;
  audit: AuditStore;
  deliveries: DeliveryStore;
  settings: SettingsStore;
  channels: ReadonlyMap<ChannelName, Channel>;
  webchat: WebchatChannel | null;
  /**
   * The start-up reconcile, running in the background (HTTP answers meanwhile); null when it
   * failed (the periodic one retries).
   */
  reconcileReport: Promise<ReconcileReport | null>;
  ops: OpsParts;
  /** Stop taking input, finish in-flight work, close everything (within 8 s). */
  close(): Promise<void>;
}

/** Start everything; resolves when the HTTP server answers and channels are started. */
export async function startSignoff(options: StartOptions): Promise<Signoff> {
  const { config } = options;
  const { file } = config;
  const logger = options.logger ?? createLogger(config.env.LOG_LEVEL, { format: config.env.LOG_FORMAT });
  const now = options.now ?? (() => new Date());
  // What each adapter declares about its platform (markup, chat ids, groups, pacing).
  const platforms = PLATFORMS;
  const directory = createOperatorDirectory(file.operators, file.timezone, platforms);
  const renderer = createRenderer(platforms);
  const wiring = { config, logger, directory, renderer, platforms };

  const infra = await startInfrastructure(config, logger);
  let presenter: CardPresenter | null = null;
  const chatSide = await wireChannels(infra, {
    ...wiring,
    injected: options.channels ?? [],
    perform: (job) => presenter!.perform(job),
  });
  const engine = await wireApprovals(infra, chatSide, wiring);
  presenter = engine.presenter;
  const chatOps = await wireChatOps(infra, chatSide, engine, { ...wiring, now });
  const workers =
    options.workers === false
      ? null
      : startWorkers(infra, chatSide, engine, chatOps, {
          config,
          logger,
          timerConcurrency: options.timerConcurrency ?? 500,
        });
  const stopSealer = startAuditSealer(engine.audit, logger);

  // In the background: with a large backlog the walk takes a while, and HTTP, health and the
  // channels must answer meanwhile. A timer is one member per approval and kind, so nothing is
  // scheduled twice when requests arrive during it.
  const reconcileReport = engine.reconcile().then(
    (report) => {
      logger.info(report, "reconciled timers and deliveries from PostgreSQL");
      // The timers are in the sorted set now: what an earlier release kept as BullMQ jobs can go.
      void retireBullmqTimers(infra.producer, config.env.SIGNOFF_QUEUE_PREFIX).then(
        (retired) => retired && logger.info("removed the timer jobs of an earlier release"),
        (err) => logger.warn({ err: (err as Error).message }, "could not remove an earlier release's timer jobs"),
      );
      return report;
    },
    (err) => {
      logger.warn({ err: (err as Error).message }, "start-up reconcile failed; the periodic one retries");
      return null;
    },
  );
  const stopReconciler = every(config.env.SIGNOFF_RECONCILE_SECONDS * 1000, engine.reconcile, (err) =>
    logger.warn({ err: (err as Error).message }, "periodic reconcile failed"),
  );
  // Redis lost its keys, or is back after an outage: re-create from PostgreSQL now, not in 5 min.
  const redisWatch = watchRedis({
    redis: infra.producer,
    prefix: config.env.SIGNOFF_QUEUE_PREFIX,
    onRecovered: async (reason) =>
      logger.info({ reason, ...(await engine.reconcile()) }, "re-created timers and sends from PostgreSQL"),
    logger,
  });
  const schedules = await chatOps.ops.queue.sync(
    [...chatOps.digestSchedules].map(([operator, cron]) => ({
      operator,
      cron,
      timezone: directory.byName(operator)!.timezone,
    })),
    file.healthChecks,
  );
  if (schedules.removed.length) logger.info({ removed: schedules.removed }, "removed schedules no longer configured");

  const http = wireHttp(infra, chatSide, engine, chatOps, { config, logger, redisWatch, now });
  for (const channel of chatSide.channels.values()) await channel.start((event) => chatOps.chatHandler.handle(event));
  await chatSide.telegram?.afterStart();
  await http.ready(); // the port is already bound: the app takes over its requests now
  const address = infra.bound.url;
  logger.info(
    { url: address, channels: [...chatSide.channels.keys()], config: config.configPath ?? "(defaults)" },
    "signoff started",
  );
  if (chatSide.webchat) logger.info({ url: `${address}/chat` }, "web chat ready");
  const caughtUp = await chatOps.ops.digests.catchUp(); // a digest missed while signoff was down, once
  if (Object.keys(caughtUp).length) logger.info({ digests: caughtUp }, "digest catch-up");

  let closing: Promise<void> | null = null;
  return {
    config,
    logger,
    db: infra.db,
    url: address,
    service: engine.service,
    presenter: engine.presenter,
    chatHandler: chatOps.chatHandler,
    directory,
    approvals: engine.approvals,
    audit: engine.audit,
    deliveries: engine.deliveries,
    settings: engine.settings,
    channels: chatSide.channels,
    webchat: chatSide.webchat,
    reconcileReport,
    ops: chatOps.ops,
    close() {
      closing ??= (async () => {
        // Every step is bounded, so a hanging dependency cannot keep the process from exiting 0
        // within 10 s of SIGTERM; what is cut off is retried.
        const { step } = createShutdownSteps(8_000, logger);
        await step("http", 2_000, async () => {
          engine.bus.wakeAll(); // long polls answer with the record as it stands, not a cut connection
          await http.close(); // new requests get 503
          await infra.bound.close(); // in-flight requests finish (long polls are cut after a grace period)
        });
        redisWatch.stop();
        stopSealer();
        stopReconciler();
        chatOps.stop();
        await step("channels", 1_500, () =>
          Promise.all([...chatSide.channels.values()].map((c) => c.stop().catch(() => undefined))),
        );
        if (workers) await step("workers", 3_000, () => workers.close());
        await step("web chat", 500, () => chatSide.outbox.drainLocal());
        await step("decision bus", 500, () => engine.bus.close());
        await step("audit seal", 1_000, () => engine.audit.seal().catch(() => undefined));
        await step("queues", 1_000, () =>
          Promise.all([
            engine.timers.queue.close(),
            engine.delivery.queue.close(),
            chatSide.outbox.queue.close(),
            chatOps.ops.queue.queue.close(),
          ]),
        );
        await step("connections", 1_000, () => infra.close());
      })();
      return closing;
    },
  };
}
