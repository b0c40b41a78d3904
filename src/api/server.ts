/**
 * The HTTP API for sources: the fastify app, its one error handler, health and metrics, and the
 * authenticated scope the source routes live in. Routes declare zod schemas for the request and
 * the answer; a request that fails them is `400 { problems: [{ path, message }] }`. Bearer tokens
 * are hashed and compared in constant time with each source's `tokenSha256`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { serializerCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import { z } from "zod";
import { AppError } from "../domain/errors.js";
import { type ApprovalRoutesDeps, registerApprovalRoutes } from "./approval-routes.js";
import type { BoundHttpServer } from "./early-listen.js";
import { type HomePageFacts, packageVersion, registerHomePage } from "./home-page.js";
import { validatorCompiler, type ZodApp } from "./http-validation.js";
import { documentSourceRoute, registerOpenApi, registerOpenApiRoute } from "./openapi.js";
import { StartingSchema } from "./response-schemas.js";

/** One named readiness check for `/api/health`. */
export interface HealthCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

/** Injected dependencies of {@link createHttpServer}. */
export interface HttpServerDeps extends ApprovalRoutesDeps {
  sources: ReadonlyArray<{ name: string; tokenSha256: string }>;
  health: HealthCheck[];
  metrics?: Registry;
  /**
   * Which dependency an error says is unreachable ("postgres", "redis"), or null. Such errors
   * become `503` with `Retry-After`, logged once per outage instead of once per request.
   */
  unavailableDependency?(error: unknown): string | null;
  /** Each health check's own time limit, so `/api/health` always answers within 2 s. @defaultValue 1500 */
  healthTimeoutMs?: number;
  /**
   * Serve on this already-listening server (bound first, before the rest of start-up); it is
   * handed the app's requests once the app is ready.
   */
  server?: BoundHttpServer;
  logger: { info(o: object, m?: string): void; error(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** What `GET /` says (version, web chat). @defaultValue this package's version, web chat not linked */
  home?: HomePageFacts;
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
 * The `onRequest` hook that admits only sources with a valid bearer token and sets
 * `request.source` (before the body is even read); see {@link registerSourceRoutes}.
 */
export function createSourceAuth(sources: HttpServerDeps["sources"]) {
  return async (request: FastifyRequest): Promise<void> => {
    const source = authenticateSource(request.headers.authorization, sources);
    if (!source) throw new AppError({ code: "unauthorized", message: "missing or invalid bearer token" });
    request.source = source;
  };
}

/**
 * Register routes only sources reach: a scope whose `onRequest` hook is `requireSource`, so a
 * route added there cannot forget authentication. Its routes exist once the app is ready.
 */
export function registerSourceRoutes(
  app: FastifyInstance,
  requireSource: (request: FastifyRequest) => Promise<void>,
  routes: (scope: ZodApp) => void,
): void {
  app.register(async (scope) => {
    scope.addHook("onRequest", requireSource);
    // In the API document each route here is marked as needing the token, with its error answers.
    scope.addHook("onRoute", documentSourceRoute);
    routes(scope.withTypeProvider<ZodTypeProvider>());
  });
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

type RequestHandler = Parameters<BoundHttpServer["attach"]>[0];

/** `/api/health` answer, 200 when every check is up and 503 naming the ones down. */
const HealthSchema = z.object({
  status: z.enum(["healthy", "unhealthy"]),
  down: z.array(z.string()).optional(),
  checks: z.record(z.string(), z.looseObject({ status: z.enum(["up", "down"]) })),
});
/** `/api/health` while something is down, or `{ status: "starting" }` before start-up ends. */
const HealthDownSchema = z.union([HealthSchema, StartingSchema]);

/** Build the fastify app (not yet listening); channels may add their routes before `listen`. */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const bound = deps.server;
  let appHandler: RequestHandler | undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: 1_048_576,
    return503OnClosing: true,
    forceCloseConnections: true,
    ...(bound
      ? {
          serverFactory: (handler: RequestHandler) => {
            appHandler = handler;
            return bound.server;
          },
        }
      : {}),
  });
  // The bound port keeps answering "starting" until the app is ready: before that fastify would
  // run a route without its hooks (no authentication) or crash the process on a 404.
  if (bound) app.addHook("onReady", async () => void bound.attach(appHandler!));
  // Only routes that declare zod schemas use these; the channels' own routes are unaffected.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const outages = new Set<string>();

  // A request that succeeds again ends the outage it was logged under (logged once more, as over).
  app.addHook("onResponse", async (_request, reply) => {
    if (outages.size && reply.statusCode < 500) {
      for (const name of outages) deps.logger.info({ dependency: name }, "dependency reachable again");
      outages.clear();
    }
  });

  // The one error handler: request problems (schemas and handlers alike) are AppErrors.
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

  // Before every documented route: the generator collects the routes registered after it.
  registerOpenApi(app, { version: deps.home?.version ?? packageVersion() });
  app.register(async (scope) => registerPublicRoutes(scope.withTypeProvider<ZodTypeProvider>(), deps));
  registerSourceRoutes(app, createSourceAuth(deps.sources), (scope) => registerApprovalRoutes(scope, deps));
  return app;
}

/** The routes anyone may call: the home page, health, metrics and the API document. */
function registerPublicRoutes(zodApp: ZodApp, deps: HttpServerDeps): void {
  registerHomePage(zodApp, deps.home ?? { version: packageVersion(), webchatOff: "this server was built without it." });
  registerOpenApiRoute(zodApp);
  zodApp.get(
    "/api/health",
    {
      schema: {
        summary: "Readiness: PostgreSQL, Redis and each enabled channel",
        response: { 200: HealthSchema, 503: HealthDownSchema },
      },
    },
    async (_request, reply) => {
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
        results.map(([name, r]) => [name, { status: r.ok ? ("up" as const) : ("down" as const), ...(r.detail ?? {}) }]),
      );
      const down = results.filter(([, r]) => !r.ok).map(([name]) => name);
      return reply
        .status(down.length ? 503 : 200)
        .send(down.length ? { status: "unhealthy", down, checks } : { status: "healthy", checks });
    },
  );

  zodApp.get("/metrics", { schema: { summary: "Prometheus metrics" } }, async (_request, reply) => {
    if (!deps.metrics) return reply.status(404).send({ error: "not_found" });
    return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });
}
