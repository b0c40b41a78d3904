/**
 * Composition root: config → logger → PostgreSQL/Redis → stores → services → channels, jobs
 * and HTTP. The only module that builds concrete objects. `npm start` runs {@link main};
 * tests call {@link startSignoff} with their own schema, queue prefix and channels.
 */
import { pathToFileURL } from "node:url";
import type { Worker } from "bullmq";
import { registerOpsRoutes } from "./api/ops-routes.js";
import { createMetrics } from "./api/metrics.js";
import { createHttpServer, createSourceAuth, type HealthCheck } from "./api/server.js";
import { setupTelegram } from "./bot/telegram/telegram-setup.js";
import { setupWhatsApp } from "./bot/whatsapp/whatsapp-setup.js";
import { createWebchatChannel, type WebchatChannel } from "./bot/webchat/webchat-channel.js";
import { type Config, ConfigError, isLoopbackHost, loadConfig } from "./config.js";
import { listenEarly, ListenError } from "./api/early-listen.js";
import { StartupError } from "./domain/errors.js";
import { createOnceLogger } from "./lib/log-once.js";
import type { Channel, ChannelName } from "./domain/channel.js";
import { createApprovalService, type ApprovalService } from "./handlers/approval-service.js";
import { createCardPresenter, type CardPresenter } from "./handlers/card-presenter.js";
import { createChatHandler, type ChatHandler } from "./handlers/chat-handler.js";
import { createOperatorDirectory, type OperatorDirectory } from "./handlers/operators.js";
import { createRenderer } from "./handlers/render.js";
import { createBroadcaster } from "./handlers/broadcast.js";
import { createDigestService, type DigestService } from "./handlers/digest-service.js";
import { createOpsHandler } from "./handlers/ops-handler.js";
import { createOpsQueries } from "./handlers/ops-queries.js";
import { createPairingService, type PairingService } from "./handlers/pairing-service.js";
import { createReportService } from "./handlers/report-service.js";
import { createDeliveryQueue, createDeliveryWorker } from "./jobs/callback-queue.js";
import { createDecisionBus } from "./jobs/decision-bus.js";
import { createHealthRunner } from "./jobs/health-probe.js";
import { createOpsQueue, createOpsWorker, type OpsQueue } from "./jobs/ops-queue.js";
import { createChatRateLimiter } from "./jobs/chat-rate-limiter.js";
import { type ChannelPacing, createOutboxQueue, createOutboxWorker } from "./jobs/outbox-queue.js";
import { startAuditSealer } from "./jobs/audit-sealer.js";
import { reconcile, reconcileEvery, type ReconcileReport } from "./jobs/reconciler.js";
import { createRedis, isRedisUnavailable, waitForRedis, watchRedis } from "./jobs/redis.js";
import { createTimerQueue, createTimerWorker } from "./jobs/timer-queue.js";
import { createLogger, type Logger } from "./logger.js";
import { createApprovalStore, type ApprovalStore } from "./store/approval-store.js";
import { createAuditStore, type AuditStore } from "./store/audit-store.js";
import { createChatStore } from "./store/chat-store.js";
import { createDatabase, type Database, isDatabaseUnavailable, waitForDatabase } from "./store/db.js";
import { createDeliveryStore, type DeliveryStore } from "./store/delivery-store.js";
import { migrate } from "./store/migrate.js";
import { createSettingsStore, type SettingsStore } from "./store/settings-store.js";
import { createWhatsAppAuthStore, createWhatsAppMessageStore } from "./store/whatsapp-auth-store.js";
import { createCommandStore, type CommandStore } from "./store/command-store.js";
import { createDigestStore, type DigestStore } from "./store/digest-store.js";
import { createMonitorStore, type MonitorStore } from "./store/monitor-store.js";
import { createPairingStore, type PairingStore } from "./store/pairing-store.js";
import { createSpendStore, type SpendStore } from "./store/spend-store.js";
import { createTaskStore, type TaskStore } from "./store/task-store.js";

/** Overrides for tests and embedding. */
export interface StartOptions {
  config: Readonly<Config>;
  logger?: Logger;
  /** Extra channels built by the caller (e.g. Telegram against a fake Bot API). */
  channels?: Channel[];
  /** Start the job workers (default true); the benchmark runs some with other settings. */
  workers?: boolean;
  timerConcurrency?: number;
  /** Clock of the chat-ops features (issue #4); tests fix it to get exact replies. */
  now?: () => Date;
}

/** The chat-ops pieces (issue #4), exposed for tests and embedding. */
export interface OpsParts {
  tasks: TaskStore;
  spend: SpendStore;
  monitor: MonitorStore;
  commands: CommandStore;
  digestStore: DigestStore;
  pairingStore: PairingStore;
  digests: DigestService;
  pairing: PairingService;
  queue: OpsQueue;
  runHealthCheck(name: string): Promise<unknown>;
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
  reconcileReport: ReconcileReport;
  ops: OpsParts;
  /** Stop taking input, finish in-flight work, close everything. */
  close(): Promise<void>;
}

/** Start everything; resolves when the HTTP server listens and channels are started. */
export async function startSignoff(options: StartOptions): Promise<Signoff> {
  const { config } = options;
  const { env, file } = config;
  const logger = options.logger ?? createLogger(env.LOG_LEVEL);
  const prefix = env.SIGNOFF_QUEUE_PREFIX;
  const outageLog = createOnceLogger(logger);

  // The port first: a second instance on a busy port fails before it migrates or starts workers.
  const bound = await listenEarly(env.HTTP_PORT, env.HTTP_HOST);
  const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 20 });
  const redis = createRedis(env.REDIS_URL);
  // Producers fail fast while Redis is down, so HTTP requests answer; PostgreSQL has the rest.
  const producer = createRedis(env.REDIS_URL, { autoPipelining: true, failFast: true });
  const subscriber = createRedis(env.REDIS_URL);
  const connections = { redis, producer, subscriber };
  for (const [name, connection] of Object.entries(connections)) {
    connection.on("error", (err) => outageLog.warn(`redis:${name}`, { connection: name, err: err.message }, "Redis connection error"));
  }
  try {
    await Promise.all([waitForDatabase(db, env.DATABASE_URL, 8_000), waitForRedis(producer, env.REDIS_URL, 8_000), waitForRedis(redis, env.REDIS_URL, 8_000)]);
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied }, "migrations applied");
  } catch (error) {
    for (const connection of Object.values(connections)) connection.disconnect();
    await Promise.allSettled([db.close(), bound.close()]);
    throw error;
  }

  const approvals = createApprovalStore(db);
  const audit = createAuditStore(db);
  const deliveries = createDeliveryStore(db);
  const settings = createSettingsStore(db);
  const chat = createChatStore(db);

  const directory = createOperatorDirectory(file.operators, file.timezone);
  const renderer = createRenderer();
  const channels = new Map<ChannelName, Channel>();
  // The web chat trusts whoever reaches it: never served on an address others can reach.
  const webchatAllowed = config.webchatEnabled && isLoopbackHost(env.HTTP_HOST);
  if (config.webchatEnabled && !webchatAllowed) logger.warn({ host: env.HTTP_HOST }, "web chat is off: HTTP_HOST is not a loopback address");
  const webchat = webchatAllowed
    ? createWebchatChannel({ operators: () => directory.all().filter((o) => o.webchat).map((o) => o.name) })
    : null;
  if (webchat) channels.set("webchat", webchat);
  for (const channel of options.channels ?? []) channels.set(channel.name, channel);
  const telegram =
    env.TELEGRAM_BOT_TOKEN && !channels.has("telegram")
      ? setupTelegram({
          token: env.TELEGRAM_BOT_TOKEN,
          apiRoot: env.TELEGRAM_API_ROOT,
          webhookUrl: env.TELEGRAM_WEBHOOK_URL,
          webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
          prefix,
          redis,
          logger: logger.child({ component: "telegram" }),
        })
      : null;
  if (telegram) channels.set("telegram", telegram.channel);
  const whatsapp =
    env.WHATSAPP_ENABLED && !channels.has("whatsapp")
      ? setupWhatsApp({
          authStore: createWhatsAppAuthStore(db),
          messageStore: createWhatsAppMessageStore(db),
          redis,
          prefix,
          pairingPhone: env.WHATSAPP_PAIRING_PHONE,
          logger: logger.child({ component: "whatsapp" }),
          onAlert: (text) => alertOwnersElsewhere(text),
        })
      : null;
  if (whatsapp) channels.set("whatsapp", whatsapp);
  // Telegram's limits (SPEC §6), booked in Redis so every process shares one calendar. Slots are
  // 35 ms apart (29/s) and 1.1 s per chat: the margin absorbs a few ms of send jitter, so the
  // platform never counts 31 in a second.
  const pacing: Partial<Record<ChannelName, ChannelPacing>> = {
    telegram: { limiter: createChatRateLimiter(producer, { prefix: `${prefix}:telegram-rate`, globalPerSecond: 29, perChatIntervalMs: 1100 }), isGroup: (chatId) => chatId.startsWith("-") },
    // WhatsApp bans accounts that look like bulk senders: about one message a second overall, one
    // per 3 s per chat, each with up to 0.7 s of random jitter. Only for the real socket; tests
    // that inject a fake channel are not slowed.
    ...(whatsapp
      ? {
          whatsapp: {
            limiter: createChatRateLimiter(producer, { prefix: `${prefix}:whatsapp-rate`, globalPerSecond: 1, perChatIntervalMs: 3_000, groupPerMinute: 10 }),
            isGroup: (chatId: string) => chatId.endsWith("@g.us"),
            jitterMs: 700,
          },
        }
      : {}),
  };

  const timers = createTimerQueue(producer, prefix);
  const delivery = createDeliveryQueue(producer, prefix, {
    attempts: file.approvals.callbackAttempts,
    backoffMs: file.approvals.callbackBackoffMs,
    timeoutMs: file.approvals.callbackTimeoutMs,
  });
  const outbox = createOutboxQueue(producer, prefix, new Set(Object.keys(pacing) as ChannelName[]), {
    channels: new Set<ChannelName>(webchat ? ["webchat"] : []),
    perform: (job) => presenter.perform(job),
    onError: (err, job) => logger.warn({ err: (err as Error).message, op: job.op, channel: "webchat" }, "web chat delivery failed"),
  });
  /** WhatsApp lost (logged out, replaced): tell the owners on every other channel. */
  async function alertOwnersElsewhere(text: string): Promise<void> {
    const owners = directory.all().filter((o) => o.roles.includes("owner"));
    const addresses = owners.flatMap((o) => directory.addressesOf(o, [...channels.keys()].filter((name) => name !== "whatsapp")));
    for (const a of addresses) await outbox.enqueue({ op: "text", channel: a.channel, chatId: a.chatId, text });
  }
  for (const queue of [timers.queue, delivery.queue, outbox.queue]) {
    queue.on("error", (err) => outageLog.warn(`queue:${queue.name}`, { queue: queue.name, err: err.message }, "queue error"));
  }
  const bus = await createDecisionBus(producer, subscriber, prefix);

  const presenter = createCardPresenter({
    directory,
    channels,
    renderer,
    chat,
    approvals,
    enqueue: outbox.enqueue,
    telegramGroupChat: file.approvals.telegramChat,
    localChannels: new Set<ChannelName>(webchat ? ["webchat"] : []),
    defaultTimezone: file.timezone,
  });
  const service = createApprovalService({
    approvals,
    audit,
    settings,
    timers: timers.scheduler,
    callbacks: { enqueue: delivery.enqueue },
    presenter,
    decisions: bus,
    defaults: { deadlineSeconds: file.approvals.deadlineSeconds, objectionSeconds: file.approvals.objectionSeconds },
    eligibleApprovers: (roles) => directory.all().filter((o) => o.roles.some((r) => roles.includes(r))).length,
    logger: logger.child({ component: "approvals" }),
  });

  // ── Chat-ops (issue #4): source reports, queries, commands, digests, strangers and pairing ──
  const clock = options.now ?? (() => new Date());
  const [tasks, spend, monitor, commands] = [createTaskStore(db), createSpendStore(db), createMonitorStore(db), createCommandStore(db)];
  const [digestStore, pairingStore] = [createDigestStore(db), createPairingStore(db)];
  const broadcaster = createBroadcaster({ directory, channels: () => [...channels.keys()], renderer, enqueue: outbox.enqueue });
  const queries = createOpsQueries({
    tasks, spend, monitor, settings,
    pendingApprovals: (limit) => service.list({ status: "pending", limit }), countPending: () => approvals.countPending(),
    healthChecks: file.healthChecks.map((c) => c.name),
    heartbeatMsOf: (agent) => (file.heartbeats.agents[agent] ?? file.heartbeats.intervalSeconds) * 1000,
    view: { currency: file.spend.currency, locale: file.locale, stuckAfterMs: file.digests.stuckAfterSeconds * 1000 },
  });
  const digestSchedules = new Map(file.operators.flatMap((o) => (o.digest ? [[o.name, o.digest] as const] : [])));
  const digests = createDigestService({
    queries, digests: digestStore, broadcaster, directory, schedules: digestSchedules,
    graceMs: file.digests.graceSeconds * 1000, now: clock, logger: logger.child({ component: "digests" }),
  });
  const pairing = createPairingService({
    store: pairingStore, directory, audit, renderer, enqueue: outbox.enqueue, broadcaster,
    defaultTimezone: file.timezone, codeTtlMs: file.pairing.codeTtlSeconds * 1000, now: clock,
  });
  await pairing.load();
  const commandUrls = new Map(file.sources.map((s) => [s.name, s.commandUrl ?? null]));
  const intents = createOpsHandler({
    queries, digests, tasks, commands, settings, audit, pairing, broadcaster, renderer, enqueue: outbox.enqueue,
    deliver: delivery.enqueue, commandUrl: (source) => commandUrls.get(source) ?? null,
    commandRoles: file.commandRoles, now: clock, logger: logger.child({ component: "ops" }),
  });
  const reports = createReportService({
    tasks, spend, monitor, commands, audit, broadcaster, now: clock, logger: logger.child({ component: "reports" }),
    spendAlert: { threshold: file.spend.dailyAlert, currency: file.spend.currency, timezone: file.timezone, locale: file.locale },
  });
  const opsQueue = createOpsQueue(producer, prefix);
  opsQueue.queue.on("error", (err) => outageLog.warn("queue:ops", { queue: "ops", err: err.message }, "queue error"));
  const runHealthCheck = createHealthRunner({ checks: file.healthChecks, monitor, now: clock });
  // Operators paired in another process show up here within a minute (and at once when they speak).
  const pairedRefresh = setInterval(() => void pairing.load().catch((err) => logger.warn({ err: (err as Error).message }, "paired operators refresh failed")), 60_000);
  pairedRefresh.unref();
  const ops: OpsParts = { tasks, spend, monitor, commands, digestStore, pairingStore, digests, pairing, queue: opsQueue, runHealthCheck };
  // ── end chat-ops wiring ──

  const chatHandler = createChatHandler({
    service, directory, chat, audit, renderer, enqueue: outbox.enqueue, intents, strangers: pairing, logger: logger.child({ component: "chat" }),
  });

  const workers: Worker[] = [];
  if (options.workers !== false) {
    workers.push(createTimerWorker(redis.duplicate(), prefix, service, options.timerConcurrency ?? 50));
    workers.push(
      createDeliveryWorker(redis.duplicate(), prefix, {
        deliveries,
        signingSecret: env.SIGNOFF_SIGNING_SECRET,
        timeoutMs: file.approvals.callbackTimeoutMs,
        logger: logger.child({ queue: "deliveries" }),
      }),
    );
    workers.push(createOutboxWorker(redis.duplicate(), prefix, presenter.perform, logger.child({ queue: "outbox" }), { pacing, concurrency: 20 }));
    workers.push(createOpsWorker(redis.duplicate(), prefix, { digest: (operator) => digests.sendScheduled(operator, "schedule"), health: runHealthCheck }));
    for (const w of workers) w.on("error", (err) => outageLog.warn(`worker:${w.name}`, { err: err.message, queue: w.name }, "worker error"));
  }

  const stopSealer = startAuditSealer(audit, logger);

  // A restarted web chat lost its cards: the reconcile posts them again there (and only there).
  const cards = { listCardRefs: chat.listCardRefs, announce: presenter.announce, channels, directory, enqueue: outbox.enqueue };
  const reconcileDeps = { approvals, deliveries, timers: timers.scheduler, deliveryQueue: delivery, cards };
  const reconcileReport = await reconcile(reconcileDeps);
  const stopReconciler = reconcileEvery(5 * 60_000, reconcileDeps, logger);
  logger.info(reconcileReport, "reconciled timers and deliveries from PostgreSQL");
  // Redis lost its keys, or is back after an outage: re-create from PostgreSQL now, not in 5 min.
  const redisWatch = watchRedis({
    redis: producer,
    prefix,
    onRecovered: async (reason) => logger.info({ reason, ...(await reconcile(reconcileDeps)) }, "re-created timers and sends from PostgreSQL"),
    logger,
  });
  const schedules = await opsQueue.sync(
    [...digestSchedules].map(([operator, cron]) => ({ operator, cron, timezone: directory.byName(operator)!.timezone })),
    file.healthChecks,
  );
  if (schedules.removed.length) logger.info({ removed: schedules.removed }, "removed schedules no longer configured");

  const metrics = createMetrics({ countPending: () => approvals.countPending() });

  const health: HealthCheck[] = [
    { name: "postgres", check: async () => (await db.ping(), { ok: true }) },
    {
      name: "redis",
      check: async () => {
        const ok = (await redis.ping()) === "PONG";
        // Keys lost and timers still being re-created: not healthy yet.
        return redisWatch.repairing() ? { ok: false, detail: { repairing: true } } : { ok };
      },
    },
    ...[...channels.values()].map((c) => ({ name: c.name, check: async () => c.health() })),
  ];
  const http = createHttpServer({
    service,
    sources: file.sources,
    waitForDecision: bus.waitFor,
    health,
    metrics: metrics.registry,
    onApprovalCreated: metrics.approvalCreated,
    callbackAllowHosts: file.callbacks.allowHosts,
    unavailableDependency: (error) => (isDatabaseUnavailable(error) ? "postgres" : isRedisUnavailable(error) ? "redis" : null),
    server: bound,
    logger: logger.child({ component: "http" }),
  });
  registerOpsRoutes(http, { reports, requireSource: createSourceAuth(file.sources), now: clock });
  webchat?.register(http);
  telegram?.registerRoutes(http);

  for (const channel of channels.values()) await channel.start((event) => chatHandler.handle(event));
  await telegram?.afterStart();
  await http.ready(); // the port is already bound: the app takes over its requests now
  const address = bound.url;
  logger.info({ url: address, channels: [...channels.keys()], config: config.configPath ?? "(defaults)" }, "signoff started");
  if (webchat) logger.info({ url: `${address}/chat` }, "web chat ready");
  const caughtUp = await digests.catchUp(); // a digest missed while signoff was down, once
  if (Object.keys(caughtUp).length) logger.info({ digests: caughtUp }, "digest catch-up");

  let closing: Promise<void> | null = null;
  return {
    config,
    logger,
    db,
    url: address,
    service,
    presenter,
    chatHandler,
    directory,
    approvals,
    audit,
    deliveries,
    settings,
    channels,
    webchat,
    reconcileReport,
    ops,
    close() {
      closing ??= (async () => {
        // Every step is bounded, so a dependency that hangs (Redis down, a receiver that never
        // answers) cannot keep the process from exiting 0 within 10 s; what is cut off is retried.
        const deadline = Date.now() + 8_000;
        const step = (what: string, ms: number, work: () => Promise<unknown>) =>
          boundedStep(what, Math.max(100, Math.min(ms, deadline - Date.now())), work, logger);
        await step("http", 2_000, async () => {
          await http.close(); // new requests get 503
          await bound.close(); // in-flight requests finish (long polls are cut after a grace period)
        });
        redisWatch.stop();
        stopSealer();
        stopReconciler();
        clearInterval(pairedRefresh);
        await step("channels", 1_500, () => Promise.all([...channels.values()].map((c) => c.stop().catch(() => undefined))));
        // A webhook receiver that never answers must not hold up shutdown: cut it off; it stays pending and is retried.
        for (const w of workers) (w as Worker & { abortInFlight?: () => void }).abortInFlight?.();
        await step("workers", 3_000, () => Promise.all(workers.map((w) => w.close()))); // waits for active jobs
        await step("web chat", 500, () => outbox.drainLocal());
        await step("decision bus", 500, () => bus.close());
        await step("audit seal", 1_000, () => audit.seal().catch(() => undefined));
        await step("queues", 1_000, () => Promise.all([timers.queue.close(), delivery.queue.close(), outbox.queue.close(), opsQueue.queue.close()]));
        for (const w of workers) (w.opts.connection as { disconnect?: () => void }).disconnect?.();
        for (const c of [redis, producer, subscriber]) c.disconnect();
        await step("database", 1_000, () => db.close());
      })();
      return closing;
    },
  };
}

/** Run one shutdown step, giving up on it (logged) after `ms`. */
async function boundedStep(what: string, ms: number, work: () => Promise<unknown>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  try {
    const outcome = await Promise.race([work().then(() => "done" as const), late]);
    if (outcome === "late") logger.warn({ step: what, ms }, "shutdown step did not finish in time; going on");
  } catch (error) {
    logger.warn({ step: what, err: (error as Error).message }, "shutdown step failed; going on");
  } finally {
    clearTimeout(timer);
  }
}

/** `npm start`: load config, start, and shut down cleanly on SIGTERM / SIGINT. */
export async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`signoff: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.env.LOG_LEVEL);
  const channels: Channel[] = [];
  let signoff: Signoff;
  try {
    signoff = await startSignoff({ config, logger, channels });
  } catch (error) {
    if (error instanceof StartupError || error instanceof ListenError) {
      logger.fatal({ err: error.message }, "cannot start");
      process.stderr.write(`signoff: cannot start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took over 9 s; exiting");
      process.exit(1);
    }, 9_000);
    force.unref();
    signoff.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    process.stderr.write(`signoff: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
