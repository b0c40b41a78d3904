/**
 * HTTP routes for what sources report and the command pull: thin wrappers over the report
 * service, each declaring the zod schemas of its request and answer. Registered on the app built
 * by `createHttpServer`, inside an authenticated scope; its error handler turns request problems
 * and {@link AppError}s into `400 { problems }`, `401`, `409`.
 *
 * Command pull: `GET /api/commands?after=<id>&limit=<n>` lists this source's commands not yet
 * acknowledged (and not delivered by its webhook), oldest first, with `cursor` = the last id.
 * `POST /api/commands/ack { ids }` acknowledges them; acknowledged commands are never listed
 * again. A source that keeps `cursor` may pass `after` to page without acknowledging.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";
import { toTaskRecord } from "../domain/operations.js";
import type { ReportService } from "../handlers/chatops/report-service.js";
import {
  AckBodySchema,
  AckedSchema,
  CommandListSchema,
  CommandsQuerySchema,
  HeartbeatBodySchema,
  HeartbeatRecordedSchema,
  NotifyBodySchema,
  NotifyQueuedSchema,
  SpendBodySchema,
  SpendRecordedSchema,
  TaskBodySchema,
  type TaskRecord,
  TaskRecordSchema,
} from "../domain/requests/report-requests.js";
import { ErrorSchema } from "./response-schemas.js";
import { registerSourceRoutes } from "./server.js";

/** Injected dependencies of {@link registerOpsRoutes}. */
export interface OpsRoutesDeps {
  reports: ReportService;
  /** The bearer-token check (`createSourceAuth`), run on every request; sets `request.source`. */
  requireSource(request: FastifyRequest): Promise<void>;
  now?: () => Date;
}

/** How far ahead of the clock a spend record's `at` may be. */
const MAX_FUTURE_MS = 86_400_000;

/** Add the routes to `app` (before it listens). */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRoutesDeps): void {
  const now = deps.now ?? (() => new Date());

  registerSourceRoutes(app, deps.requireSource, (scope) => {
    scope.post(
      "/api/tasks",
      {
        schema: {
          summary: "Report a task (upsert by id; absent optional fields keep their values)",
          body: TaskBodySchema,
          response: {
            200: TaskRecordSchema.describe("Updated"),
            201: TaskRecordSchema.describe("Created"),
            409: ErrorSchema.describe("The task id belongs to another source"),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const result = await deps.reports.upsertTask(request.source!, body);
        if (result.outcome === "conflict") {
          throw new AppError({ code: "conflict", message: `task ${body.id} belongs to another source` });
        }
        // The domain builds the record as a plain object; the response schema checks it on the way out.
        const record = toTaskRecord(result.task) as TaskRecord;
        return reply.status(result.outcome === "created" ? 201 : 200).send(record);
      },
    );

    scope.post(
      "/api/spend",
      { schema: { summary: "Report spend", body: SpendBodySchema, response: { 201: SpendRecordedSchema } } },
      async (request, reply) => {
        const body = request.body;
        if (body.at && body.at.getTime() > now().getTime() + MAX_FUTURE_MS) {
          throw new AppError({
            code: "invalid_body",
            message: "invalid body",
            details: [{ path: "at", message: "more than a day in the future" }],
          });
        }
        const { alerted } = await deps.reports.recordSpend(request.source!, body);
        return reply.status(201).send({ recorded: true, alerted });
      },
    );

    scope.post(
      "/api/heartbeats",
      {
        schema: {
          summary: "An agent is alive (silent longer than its interval means down)",
          body: HeartbeatBodySchema,
          response: { 202: HeartbeatRecordedSchema },
        },
      },
      async (request, reply) => {
        await deps.reports.heartbeat(request.source!, request.body);
        return reply.status(202).send({ recorded: true });
      },
    );

    scope.post(
      "/api/notify",
      {
        schema: {
          summary: "Push a message to operators",
          body: NotifyBodySchema,
          response: { 202: NotifyQueuedSchema },
        },
      },
      async (request, reply) => {
        const chats = await deps.reports.notify(request.source!, request.body);
        return reply.status(202).send({ queued: chats });
      },
    );

    scope.get(
      "/api/commands",
      {
        schema: {
          summary: "Pull this source's unacknowledged commands, oldest first",
          querystring: CommandsQuerySchema,
          response: { 200: CommandListSchema },
        },
      },
      async (request) => {
        const { after, limit } = request.query;
        const commands = await deps.reports.listCommands(request.source!, after ?? "0", limit ?? 100);
        return { commands: commands.map((c) => c.body), cursor: commands.at(-1)?.id ?? after ?? null };
      },
    );

    scope.post(
      "/api/commands/ack",
      { schema: { summary: "Acknowledge commands handled", body: AckBodySchema, response: { 200: AckedSchema } } },
      async (request) => ({ acknowledged: await deps.reports.acknowledgeCommands(request.source!, request.body.ids) }),
    );
  });
}
