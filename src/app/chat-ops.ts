/**
 * Chat-ops: what sources report (tasks, spend, heartbeats, notices), the queries and commands
 * operators say, digests, strangers and pairing, health checks, and the chat handler that routes
 * every inbound message.
 */
import type { Config } from "../config.js";
import type { Platforms } from "../domain/channel.js";
import { createBroadcaster } from "../handlers/chat/broadcast.js";
import { createChatHandler, type ChatHandler } from "../handlers/chat/chat-handler.js";
import { createDigestService, type DigestService } from "../handlers/digests/digest-service.js";
import type { OperatorDirectory } from "../handlers/chat/operators.js";
import { createOpsHandler } from "../handlers/chatops/ops-handler.js";
import { createOpsQueries } from "../handlers/chatops/ops-queries.js";
import { withRuleCommands } from "../handlers/chatops/rule-commands.js";
import { createPairingService, type PairingService } from "../handlers/pairing/pairing-service.js";
import type { Renderer } from "../handlers/chat/render.js";
import { createReportService, type ReportService } from "../handlers/chatops/report-service.js";
import { createHealthRunner } from "../jobs/health-probe.js";
import { createOpsQueue, type OpsQueue } from "../jobs/ops-queue.js";
import { every } from "../lib/every.js";
import type { Logger } from "../logger.js";
import { createCommandStore, type CommandStore } from "../store/command-store.js";
import { createDigestStore, type DigestStore } from "../store/digest-store.js";
import { createMonitorStore, type MonitorStore } from "../store/monitor-store.js";
import { createPairingStore, type PairingStore } from "../store/pairing-store.js";
import { createSpendStore, type SpendStore } from "../store/spend-store.js";
import { createTaskStore, type TaskStore } from "../store/task-store.js";
import { createSelfCommands } from "../handlers/chatops/self-commands.js";
import { delegatedRoles } from "../handlers/chat/presence.js";
import { formatClock } from "../lib/time-format.js";
import type { ApprovalParts } from "./approvals.js";
import type { ChannelParts } from "./channels.js";
import type { Infrastructure } from "./infrastructure.js";

/** The chat-ops pieces, exposed for tests and embedding. */
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

/** Chat-ops parts plus what the rest of the wiring uses. */
export interface ChatOpsParts {
  ops: OpsParts;
  reports: ReportService;
  chatHandler: ChatHandler;
  /** Operator name → digest cron, for the schedules. */
  digestSchedules: ReadonlyMap<string, string>;
  /** Stop the periodic refresh of operators paired in other processes. */
  stop(): void;
}

/** Build chat-ops on the approval engine and the channels' outbox. */
export async function wireChatOps(
  infra: Infrastructure,
  chatSide: ChannelParts,
  engine: ApprovalParts,
  wiring: {
    config: Readonly<Config>;
    logger: Logger;
    directory: OperatorDirectory;
    renderer: Renderer;
    platforms: Platforms;
    now: () => Date;
  },
): Promise<ChatOpsParts> {
  const { file, env } = wiring.config;
  const { db } = infra;
  const { directory, renderer, logger, now } = wiring;
  const { service, settings, audit, approvals } = engine;
  const enqueue = chatSide.outbox.enqueue;
  const tasks = createTaskStore(db);
  const spend = createSpendStore(db);
  const monitor = createMonitorStore(db);
  const commands = createCommandStore(db);
  const digestStore = createDigestStore(db);
  const pairingStore = createPairingStore(db);
  const broadcaster = createBroadcaster({
    directory,
    channels: () => [...chatSide.channels.keys()],
    renderer,
    enqueue,
  });
  const queries = createOpsQueries({
    tasks,
    spend,
    monitor,
    settings,
    pendingApprovals: (limit) => service.list({ status: "pending", limit }),
    countPending: () => approvals.countPending(),
    healthChecks: file.healthChecks.map((c) => c.name),
    heartbeatMsOf: (agent) => (file.heartbeats.agents[agent] ?? file.heartbeats.intervalSeconds) * 1000,
    view: { currency: file.spend.currency, locale: file.locale, stuckAfterMs: file.digests.stuckAfterSeconds * 1000 },
  });
  // Configured operators' digests, then paired operators' (`digest on`), kept current as they change.
  const digestSchedules = new Map(file.operators.flatMap((o) => (o.digest ? [[o.name, o.digest] as const] : [])));
  const configuredDigests = new Set(digestSchedules.keys());
  const syncPairedDigests = () => {
    for (const name of [...digestSchedules.keys()]) if (!configuredDigests.has(name)) digestSchedules.delete(name);
    for (const o of directory.all()) if (o.paired && o.digest) digestSchedules.set(o.name, o.digest);
  };
  const digests = createDigestService({
    queries,
    digests: digestStore,
    broadcaster,
    directory,
    schedules: digestSchedules,
    graceMs: file.digests.graceSeconds * 1000,
    now,
    logger: logger.child({ component: "digests" }),
    rules: engine.rules,
  });
  const pairing = createPairingService({
    store: pairingStore,
    directory,
    audit,
    renderer,
    enqueue,
    broadcaster,
    platforms: wiring.platforms,
    defaultTimezone: file.timezone,
    codeTtlMs: file.pairing.codeTtlSeconds * 1000,
    now,
  });
  await pairing.load();
  syncPairedDigests();
  const opsQueue = createOpsQueue(infra.producer, env.SIGNOFF_QUEUE_PREFIX);
  const self = createSelfCommands({
    presence: engine.presence,
    directory,
    pairing: pairingStore,
    digestSchedule: {
      async set(operator, cron) {
        digestSchedules.set(operator.name, cron);
        await opsQueue.scheduleDigest({ operator: operator.name, cron, timezone: operator.timezone });
      },
      async clear(operator) {
        if (!configuredDigests.has(operator)) digestSchedules.delete(operator);
        await opsQueue.unscheduleDigest(operator);
      },
    },
    now,
  });
  const commandUrls = new Map(file.sources.map((s) => [s.name, s.commandUrl ?? null]));
  const opsIntents = createOpsHandler({
    queries,
    digests,
    tasks,
    commands,
    settings,
    audit,
    pairing,
    broadcaster,
    renderer,
    enqueue,
    deliver: engine.delivery.enqueue,
    commandUrl: (source) => commandUrls.get(source) ?? null,
    commandRoles: file.commandRoles,
    now,
    logger: logger.child({ component: "ops" }),
    self,
    presence: engine.presence,
  });
  const intents = withRuleCommands(opsIntents, { rules: engine.rules, settings, audit, renderer, enqueue, now });
  const reported = createReportService({
    tasks,
    spend,
    monitor,
    commands,
    audit,
    broadcaster,
    now,
    logger: logger.child({ component: "reports" }),
    spendAlert: {
      threshold: file.spend.dailyAlert,
      currency: file.spend.currency,
      timezone: file.timezone,
      locale: file.locale,
    },
  });
  // A failed task may trip the circuit breaker (counted in PostgreSQL, so across processes).
  const reports: ReportService = {
    ...reported,
    async upsertTask(source, input) {
      const outcome = await reported.upsertTask(source, input);
      if (input.state === "failed")
        await engine.breaker
          .check("failedTasks")
          .catch((err) => logger.warn({ err: (err as Error).message }, "breaker check failed"));
      return outcome;
    },
  };
  const queue = opsQueue;
  queue.queue.on("error", (err) =>
    infra.outageLog.warn("queue:ops", { queue: "ops", err: err.message }, "queue error"),
  );
  const runHealthCheck = createHealthRunner({
    checks: file.healthChecks,
    monitor,
    now,
    // Owners hear once when a check goes down and once when it is back, not at every failed probe.
    onChange: (change) =>
      broadcaster
        .toOperators(
          (o) => o.roles.includes("owner"),
          "health-changed",
          (o) => ({
            name: change.name,
            down: !change.ok,
            detail: change.detail,
            since: formatClock(change.since, o.timezone, now()),
          }),
          "hold",
        )
        .catch((err) => logger.warn({ err: (err as Error).message, check: change.name }, "health notice not queued")),
  });
  // Operators paired in another process show up here within a minute (and at once when they speak).
  const stopPairedRefresh = every(
    60_000,
    async () => {
      await pairing.load();
      syncPairedDigests();
    },
    (err) => logger.warn({ err: (err as Error).message }, "paired operators refresh failed"),
  );
  const chatHandler = createChatHandler({
    service,
    directory,
    chat: engine.chat,
    audit,
    renderer,
    enqueue,
    intents,
    strangers: pairing,
    logger: logger.child({ component: "chat" }),
    delegatedRoles: async (operator) =>
      delegatedRoles(operator, await engine.presence.active(now()), (name) => directory.byName(name)?.roles),
  });
  return {
    ops: { tasks, spend, monitor, commands, digestStore, pairingStore, digests, pairing, queue, runHealthCheck },
    reports,
    chatHandler,
    digestSchedules,
    stop: stopPairedRefresh,
  };
}
