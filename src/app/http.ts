/**
 * The HTTP side: health checks (each with its own time limit), metrics (the gauges read from
 * PostgreSQL, Redis and the channels at scrape time), the approvals and chat-ops routes, and the
 * routes channels bring (web chat page, Telegram webhook). The app takes over the port the
 * infrastructure bound at the very start.
 */
import type { FastifyInstance } from "fastify";
import { homePageFacts } from "../api/home-page.js";
import { readAtScrape } from "../api/metrics.js";
import { registerOpsRoutes } from "../api/ops-routes.js";
import { createHttpServer, createSourceAuth, type HealthCheck } from "../api/server.js";
import type { Config } from "../config.js";
import { isRedisUnavailable, type RedisWatch } from "../jobs/redis/connections.js";
import type { Logger } from "../logger.js";
import { isDatabaseUnavailable } from "../store/db.js";
import type { ApprovalParts } from "./approvals.js";
import type { ChannelParts } from "./channels.js";
import type { ChatOpsParts } from "./chat-ops.js";
import type { Infrastructure } from "./infrastructure.js";

/** Build the HTTP app with every route, ready to take requests once `ready()` resolves. */
export function wireHttp(
  infra: Infrastructure,
  chatSide: ChannelParts,
  engine: ApprovalParts,
  chatOps: ChatOpsParts,
  wiring: { config: Readonly<Config>; logger: Logger; redisWatch: RedisWatch; now: () => Date },
): FastifyInstance {
  const { file } = wiring.config;
  const dependencies: HealthCheck[] = [
    {
      name: "postgres",
      check: async () => {
        await infra.db.ping();
        return { ok: true };
      },
    },
    {
      name: "redis",
      check: async () => {
        const ok = (await infra.redis.ping()) === "PONG";
        // Keys lost and timers still being re-created: not healthy yet.
        return wiring.redisWatch.repairing() ? { ok: false, detail: { repairing: true } } : { ok };
      },
    },
  ];
  const health: HealthCheck[] = [
    ...dependencies,
    {
      // Never failing: the walk re-creates what Redis may have lost, and requests are served meanwhile.
      name: "reconcile",
      check: async () => {
        const p = engine.reconcileProgress();
        return {
          ok: true,
          detail: p.running
            ? { state: "reconciling", walked: p.walked, pending: p.pending }
            : { state: p.lastFinishedAt ? "done" : "waiting", lastFinishedAt: p.lastFinishedAt },
        };
      },
    },
    ...[...chatSide.channels.values()].map((c) => ({ name: c.name, check: async () => c.health() })),
  ];
  const { registry } = chatSide.observe.metrics;
  readAtScrape(registry, {
    countPending: () => engine.approvals.countPending(),
    queues: [engine.timers.queue, engine.delivery.queue, chatSide.outbox.queue, chatOps.ops.queue.queue],
    channels: () => chatSide.channels.values(),
    dependencies,
  });
  const http = createHttpServer({
    service: engine.service,
    sources: file.sources,
    waitForDecision: engine.bus.waitFor,
    health,
    metrics: registry,
    callbackAllowHosts: file.callbacks.allowHosts,
    unavailableDependency: (error) =>
      isDatabaseUnavailable(error) ? "postgres" : isRedisUnavailable(error) ? "redis" : null,
    server: infra.bound,
    home: homePageFacts(wiring.config, chatSide.webchat !== null),
    logger: wiring.logger.child({ component: "http" }),
  });
  registerOpsRoutes(http, { reports: chatOps.reports, requireSource: createSourceAuth(file.sources), now: wiring.now });
  chatSide.webchat?.register(http);
  chatSide.telegram?.registerRoutes(http);
  // Watching starts now and ends when the HTTP side closes, before the channels are stopped
  // (a shutdown is not a disconnection).
  const stopWatching = chatSide.observe.watchChannels(() => chatSide.channels.values());
  http.addHook("onClose", async () => stopWatching());
  return http;
}
