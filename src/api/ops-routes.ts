/**
 * HTTP routes for what sources report and the command pull: thin, zod-validated
 * wrappers over the report service. Registered on the app built by `createHttpServer`, whose
 * error handler turns {@link AppError}s into `400 { problems }`, `401`, `409`.
 *
 * Command pull: `GET /api/commands?after=<id>&limit=<n>` lists this source's commands not yet
 * acknowledged (and not delivered by its webhook), oldest first, with `cursor` = the last id.
 * `POST /api/commands/ack { ids }` acknowledges them; acknowledged commands are never listed
 * again. A source that keeps `cursor` may pass `after` to page without acknowledging.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { z } from "zod";
import { AppError } from "../domain/errors.js";
import { toTaskRecord } from "../domain/operations.js";
import type { ReportService } from "../handlers/chatops/report-service.js";
import { toProblems } from "./approval-schemas.js";
import {
  AckBodySchema,
  CommandsQuerySchema,
  HeartbeatBodySchema,
  NotifyBodySchema,
  SpendBodySchema,
  TaskBodySchema,
} from "./ops-schemas.js";

/** Injected dependencies of {@link registerOpsRoutes}. */
export interface OpsRoutesDeps {
  reports: ReportService;
  /** The bearer-token preHandler (`createSourceAuth`); sets `request.source`. */
  requireSource(request: FastifyRequest): Promise<void>;
  now?: () => Date;
}

/** How far ahead of the clock a spend record's `at` may be. */
const MAX_FUTURE_MS = 86_400_000;

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success)
    throw new AppError({ code: "invalid_body", message: `invalid ${what}`, details: toProblems(parsed.error) });
  return parsed.data;
}

/** Add the routes to `app` (before it listens). */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRoutesDeps): void {
  const now = deps.now ?? (() => new Date());
  const auth = { preHandler: deps.requireSource };

  app.post("/api/tasks", auth, async (request, reply) => {
    const body = parse(TaskBodySchema, request.body, "body");
    const result = await deps.reports.upsertTask(request.source!, body);
    if (result.outcome === "conflict") {
      throw new AppError({ code: "conflict", message: `task ${body.id} belongs to another source` });
    }
    return reply.status(result.outcome === "created" ? 201 : 200).send(toTaskRecord(result.task));
  });

  app.post("/api/spend", auth, async (request, reply) => {
    const body = parse(SpendBodySchema, request.body, "body");
    if (body.at && body.at.getTime() > now().getTime() + MAX_FUTURE_MS) {
      throw new AppError({
        code: "invalid_body",
        message: "invalid body",
        details: [{ path: "at", message: "more than a day in the future" }],
      });
    }
    const { alerted } = await deps.reports.recordSpend(request.source!, body);
    return reply.status(201).send({ recorded: true, alerted });
  });

  app.post("/api/heartbeats", auth, async (request, reply) => {
    const body = parse(HeartbeatBodySchema, request.body, "body");
    await deps.reports.heartbeat(request.source!, body);
    return reply.status(202).send({ recorded: true });
  });

  app.post("/api/notify", auth, async (request, reply) => {
    const body = parse(NotifyBodySchema, request.body, "body");
    const chats = await deps.reports.notify(request.source!, body);
    return reply.status(202).send({ queued: chats });
  });

  app.get("/api/commands", auth, async (request) => {
    const query = parse(CommandsQuerySchema, request.query, "query");
    const commands = await deps.reports.listCommands(request.source!, query.after ?? "0", query.limit ?? 100);
    return { commands: commands.map((c) => c.body), cursor: commands.at(-1)?.id ?? query.after ?? null };
  });

  app.post("/api/commands/ack", auth, async (request) => {
    const body = parse(AckBodySchema, request.body, "body");
    return { acknowledged: await deps.reports.acknowledgeCommands(request.source!, body.ids) };
  });
}
