/**
 * The HTTP API for sources: thin fastify routes over the approval service.
 * Bearer tokens are hashed and compared in constant time with each source's `tokenSha256`;
 * bodies are validated by zod and problems come back as `400 { problems: [{ path, message }] }`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Registry } from "prom-client";
import type { z } from "zod";
import { toApprovalRecord } from "../domain/approval.js";
import { AppError } from "../domain/errors.js";
import type { ApprovalService } from "../handlers/approvals/approval-service.js";
import { callbackUrlProblem } from "./callback-url.js";
import type { BoundHttpServer } from "./early-listen.js";
import {
  CreateApprovalBodySchema,
  GetApprovalQuerySchema,
  ListApprovalsQuerySchema,
  toProblems,
} from "./approval-schemas.js";

/** One named readiness check for `/api/health`. */
export interface HealthCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

/** Injected dependencies of {@link createHttpServer}. */
export interface HttpServerDeps {
  service: Pick<ApprovalService, "create" | "get" | "list" | "cancel">;
  sources: ReadonlyArray<{ name: string; tokenSha256: string }>;
  waitForDecision(approvalId: string, ms: number, signal: AbortSignal): Promise<void>;
  health: HealthCheck[];
  metrics?: Registry;
  onApprovalCreated?(gate: string): void;
  /** When set, callback URLs must name one of these hosts (`callbacks.allowHosts`). */
  callbackAllowHosts?: readonly string[] | undefined;
  /**
   * Which dependency an error says is unreachable ("postgres", "redis"), or null. Such errors
   * become `503` with `Retry-After`, logged once per outage instead of once per request.
   */
  unavailableDependency?(error: unknown): string | null;
  /** Each health check's own time limit, so `/api/health` always answers within 2 s. @defaultValue 1500 */
  healthTimeoutMs?: number;
  /** Serve on this already-listening server (bound first, before the rest of start-up). */
  server?: BoundHttpServer;
  logger: { info(o: object, m?: string): void; error(o: object, m?: string): void; warn(o: object, m?: string): void };
}

declare module "fastify" {
  interface FastifyRequest {
    source?: string;
  }
}

/** Which source a bearer token belongs to, comparing against every source in constant time. */
export function authenticateSource(header: string | undefined, sources: HttpServerDeps["sources"]): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  const given = createHash("sha256")
    .update(match?.[1] ?? "")
    .digest();
  let found: string | null = null;
  for (const source of sources) {
    const expected = Buffer.from(source.tokenSha256, "hex");
    // No early exit: every source is compared so timing does not reveal which one nearly matched.
    if (expected.length === given.length && timingSafeEqual(expected, given) && match) found = source.name;
  }
  return found;
}

/**
 * A fastify preHandler that admits only sources with a valid bearer token and sets
 * `request.source`; other route modules (e.g. `ops-routes.ts`) use it too.
 */
export function createSourceAuth(sources: HttpServerDeps["sources"]) {
  return async (request: FastifyRequest): Promise<void> => {
    const source = authenticateSource(request.headers.authorization, sources);
    if (!source) throw new AppError({ code: "unauthorized", message: "missing or invalid bearer token" });
    request.source = source;
  };
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success)
    throw new AppError({ code: "invalid_body", message: `invalid ${what}`, details: toProblems(parsed.error) });
  return parsed.data;
}

/** Run `check` but give up after `ms`: a dependency that hangs is reported down, not waited on. */
async function withTimeout<T>(check: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([check(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Build the fastify app (not yet listening); channels may add their routes before `listen`. */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 1_048_576,
    return503OnClosing: true,
    forceCloseConnections: true,
    ...(deps.server
      ? { serverFactory: (handler: Parameters<BoundHttpServer["attach"]>[0]) => deps.server!.attach(handler) }
      : {}),
  });
  const outages = new Set<string>();

  // A request that succeeds again ends the outage it was logged under (logged once more, as over).
  app.addHook("onResponse", async (_request, reply) => {
    if (outages.size && reply.statusCode < 500) {
      for (const name of outages) deps.logger.info({ dependency: name }, "dependency reachable again");
      outages.clear();
    }
  });

  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions?.url ?? "(unknown route)";
    const down = deps.unavailableDependency?.(error) ?? null;
    if (down) {
      if (!outages.has(down)) {
        outages.add(down);
        deps.logger.warn(
          { dependency: down, route, err: (error as Error).message },
          "dependency unreachable: answering 503",
        );
      }
      return reply
        .status(503)
        .header("retry-after", "5")
        .send({ error: "unavailable", message: `${down} is unreachable; try again shortly` });
    }
    if (error instanceof AppError) {
      const body: Record<string, unknown> = { error: error.code, message: error.userMessage };
      if (error.details) body.problems = error.details;
      return reply.status(error.statusCode).send(body);
    }
    const e = error as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      // fastify's own: malformed JSON, wrong content type, body too large.
      return reply.status(e.statusCode).send({
        error: e.statusCode === 413 ? "too_large" : "invalid_body",
        message: e.message,
        problems: [{ path: "(body)", message: e.message ?? "invalid" }],
      });
    }
    // The route, never request.url: a query string may carry a token.
    deps.logger.error({ err: error, route, method: request.method }, "request failed");
    return reply.status(500).send({ error: "internal", message: "internal error" });
  });

  const requireSource = createSourceAuth(deps.sources);

  app.get("/api/health", async (_request, reply) => {
    const results = await Promise.all(
      deps.health.map(async (h) => {
        try {
          return [h.name, await withTimeout(() => h.check(), deps.healthTimeoutMs ?? 1500)] as const;
        } catch (error) {
          return [h.name, { ok: false, detail: { error: (error as Error).message } }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(
      results.map(([name, r]) => [name, { status: r.ok ? "up" : "down", ...(r.detail ?? {}) }]),
    );
    const down = results.filter(([, r]) => !r.ok).map(([name]) => name);
    return reply
      .status(down.length ? 503 : 200)
      .send(down.length ? { status: "unhealthy", down, checks } : { status: "healthy", checks });
  });

  app.get("/metrics", async (_request, reply) => {
    if (!deps.metrics) return reply.status(404).send({ error: "not_found" });
    return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });

  app.post("/api/approvals", { preHandler: requireSource }, async (request, reply) => {
    const body = parseOrThrow(CreateApprovalBodySchema, request.body, "body");
    if (body.callbackUrl && deps.callbackAllowHosts) {
      const problem = callbackUrlProblem(body.callbackUrl, deps.callbackAllowHosts);
      if (problem)
        throw new AppError({
          code: "invalid_body",
          message: "invalid body",
          details: [{ path: "callbackUrl", message: problem }],
        });
    }
    const { approval, created } = await deps.service.create(request.source!, body);
    if (created) deps.onApprovalCreated?.(approval.gate);
    return reply.status(created ? 201 : 200).send(toApprovalRecord(approval));
  });

  app.get("/api/approvals", { preHandler: requireSource }, async (request) => {
    const query = parseOrThrow(ListApprovalsQuerySchema, request.query, "query");
    const list = await deps.service.list({
      ...(query.status ? { status: query.status } : {}),
      source: request.source!,
      limit: query.limit ?? 100,
    });
    return { approvals: list.map(toApprovalRecord) };
  });

  app.get<{ Params: { id: string } }>("/api/approvals/:id", { preHandler: requireSource }, async (request) => {
    const query = parseOrThrow(GetApprovalQuerySchema, request.query, "query");
    const load = async () => {
      const approval = await deps.service.get(request.params.id);
      if (!approval || approval.source !== request.source)
        throw new AppError({ code: "not_found", message: "approval not found" });
      return approval;
    };
    let approval = await load();
    if (approval.status === "pending" && query.wait) {
      // Hold the request until the decision lands or time runs out; stop early if the client goes away.
      const abort = new AbortController();
      request.raw.once("close", () => abort.abort());
      const waiting = deps.waitForDecision(approval.id, query.wait * 1000, abort.signal);
      approval = await load(); // decided between the first read and subscribing?
      if (approval.status === "pending") {
        await waiting;
        approval = await load();
      } else abort.abort();
    }
    return toApprovalRecord(approval);
  });

  app.post<{ Params: { id: string } }>(
    "/api/approvals/:id/cancel",
    { preHandler: requireSource },
    async (request, reply) => {
      const result = await deps.service.cancel(request.params.id, request.source!);
      if (result.outcome === "ignored") {
        return reply.status(409).send({
          error: "conflict",
          message: `already ${result.approval.status}`,
          approval: toApprovalRecord(result.approval),
        });
      }
      return toApprovalRecord(result.approval);
    },
  );

  return app;
}
