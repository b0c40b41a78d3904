/**
 * The approvals routes: create, read (optionally waiting for the decision), list and
 * cancel. Thin: schemas on each route validate the request and shape the answer, the approval
 * service decides. Registered inside the authenticated scope, so `request.source` is set.
 */
import { type Approval, toApprovalRecord } from "../domain/approval.js";
import { AppError } from "../domain/errors.js";
import type { ApprovalService } from "../handlers/approvals/approval-service.js";
import {
  ApprovalListSchema,
  ApprovalParamsSchema,
  type ApprovalRecord,
  ApprovalRecordSchema,
  CancelConflictSchema,
  CreateApprovalBodySchema,
  GetApprovalQuerySchema,
  ListApprovalsQuerySchema,
} from "../domain/requests/approval-requests.js";
import { callbackUrlProblem } from "../domain/requests/callback-url.js";
import type { ZodApp } from "./http-validation.js";
import { ErrorSchema } from "./response-schemas.js";

/** Injected dependencies of {@link registerApprovalRoutes}. */
export interface ApprovalRoutesDeps {
  service: Pick<ApprovalService, "create" | "get" | "list" | "cancel">;
  waitForDecision(approvalId: string, ms: number, signal: AbortSignal): Promise<void>;
  onApprovalCreated?(gate: string): void;
  /** When set, callback URLs must name one of these hosts (`callbacks.allowHosts`). */
  callbackAllowHosts?: readonly string[] | undefined;
}

// The domain builds the record as a plain object; the response schema checks it on the way out.
const record = (approval: Approval) => toApprovalRecord(approval) as ApprovalRecord;

/** Add the approvals routes to an authenticated scope. */
export function registerApprovalRoutes(app: ZodApp, deps: ApprovalRoutesDeps): void {
  app.post(
    "/api/approvals",
    {
      schema: {
        summary: "Ask for an approval (the cards go out at once)",
        body: CreateApprovalBodySchema,
        response: {
          200: ApprovalRecordSchema.describe("An earlier request with the same idempotencyKey (no new card)"),
          201: ApprovalRecordSchema.describe(
            "Created; decide by waiting on GET /api/approvals/{id}?wait=N or the callback",
          ),
          409: ErrorSchema.describe(
            "idempotencyKey reused with a different payload (problems name `payload`), or busy: no free approval code (try again)",
          ),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
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
      return reply.status(created ? 201 : 200).send(record(approval));
    },
  );

  app.get(
    "/api/approvals",
    {
      schema: {
        summary: "This source's approvals, newest first",
        querystring: ListApprovalsQuerySchema,
        response: { 200: ApprovalListSchema },
      },
    },
    async (request) => {
      const { status, limit } = request.query;
      const list = await deps.service.list({
        ...(status ? { status } : {}),
        source: request.source!,
        limit: limit ?? 100,
      });
      return { approvals: list.map(record) };
    },
  );

  app.get(
    "/api/approvals/:id",
    {
      schema: {
        summary: "One approval; with ?wait=N (seconds, at most 60) held until it is decided or N elapses",
        params: ApprovalParamsSchema,
        querystring: GetApprovalQuerySchema,
        response: {
          200: ApprovalRecordSchema.describe("The record (still pending if the wait ran out)"),
          404: ErrorSchema.describe("No such approval for this source"),
        },
      },
    },
    async (request) => {
      const load = async () => {
        const approval = await deps.service.get(request.params.id);
        if (!approval || approval.source !== request.source)
          throw new AppError({ code: "not_found", message: "approval not found" });
        return approval;
      };
      let approval = await load();
      const { wait } = request.query;
      if (approval.status === "pending" && wait) {
        // Hold the request until the decision lands or time runs out; stop early if the client goes away.
        const abort = new AbortController();
        request.raw.once("close", () => abort.abort());
        const waiting = deps.waitForDecision(approval.id, wait * 1000, abort.signal);
        approval = await load(); // decided between the first read and subscribing?
        if (approval.status === "pending") {
          await waiting;
          approval = await load();
        } else abort.abort();
      }
      return record(approval);
    },
  );

  app.post(
    "/api/approvals/:id/cancel",
    {
      schema: {
        summary: "Cancel a pending approval (its cards are updated)",
        params: ApprovalParamsSchema,
        response: {
          200: ApprovalRecordSchema.describe("Cancelled"),
          404: ErrorSchema.describe("No such approval for this source"),
          409: CancelConflictSchema.describe("Already decided (the record is included), or busy"),
        },
      },
    },
    async (request, reply) => {
      const result = await deps.service.cancel(request.params.id, request.source!);
      if (result.outcome === "ignored") {
        return reply.status(409).send({
          error: "conflict",
          message: `already ${result.approval.status}`,
          approval: record(result.approval),
        });
      }
      return record(result.approval);
    },
  );
}
