/**
 * The HTTP side: health checks (each with its own time limit), metrics, the approvals and
 * chat-ops routes, and the routes channels bring (web chat page, Telegram webhook). The app takes
 * over the port the infrastructure bound at the very start.
 */
import type { FastifyInstance } from "fastify";
import { createMetrics } from "../api/metrics.js";
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
  const metrics = createMetrics({ countPending: () => engine.approvals.countPending() });
  const health: HealthCheck[] = [
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
    ...[...chatSide.channels.values()].map((c) => ({ name: c.name, check: async () => c.health() })),
  ];
  const http = createHttpServer({
    service: engine.service,
    sources: file.sources,
    waitForDecision: engine.bus.waitFor,
    health,
    metrics: metrics.registry,
    onApprovalCreated: metrics.approvalCreated,
    callbackAllowHosts: file.callbacks.allowHosts,
    unavailableDependency: (error) =>
      isDatabaseUnavailable(error) ? "postgres" : isRedisUnavailable(error) ? "redis" : null,
    server: infra.bound,
    logger: wiring.logger.child({ component: "http" }),
  });
  registerOpsRoutes(http, { reports: chatOps.reports, requireSource: createSourceAuth(file.sources), now: wiring.now });
  chatSide.webchat?.register(http);
  chatSide.telegram?.registerRoutes(http);
  return http;
}
