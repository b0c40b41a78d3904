/**
 * The source routes as the framework runs them, with tiny fakes behind: the bearer token is
 * checked before anything else (even before the body is read), every request part is validated
 * by the route's schema into the one 400 shape, handlers get the parsed values, and answers keep
 * every field of the records clients read.
 */
import { describe, expect, it } from "vitest";
import { ApprovalRecordSchema } from "../../../src/domain/requests/approval-requests.js";
import { registerOpsRoutes } from "../../../src/api/ops-routes.js";
import { TaskRecordSchema } from "../../../src/domain/requests/report-requests.js";
import { createHttpServer, createSourceAuth, type HttpServerDeps } from "../../../src/api/server.js";
import { type Approval, toApprovalRecord } from "../../../src/domain/approval.js";
import { AppError } from "../../../src/domain/errors.js";
import type { ReportService } from "../../../src/handlers/chatops/report-service.js";
import { REPORT_ROUTES, auth, postAsSource, sources } from "../../helpers/source-http.js";

const at = new Date("2030-01-01T00:00:00Z");

const approval = (over: Partial<Approval> = {}): Approval => ({
  id: "a1",
  code: "K7QF",
  source: "forge",
  title: "Deploy",
  reason: "release",
  agent: "ci",
  gate: "medium",
  effectiveGate: "medium",
  preview: null,
  status: "approved",
  decidedBy: "ann",
  decidedAt: at,
  note: "ok",
  onTimeout: "deny",
  approverRoles: ["approver"],
  quorum: 1,
  callbackUrl: "https://hooks.example.com/x",
  idempotencyKey: "k1",
  metadata: { pr: 42, nested: { list: [1, null, "x"] } },
  notify: false,
  action: "deploy:prod",
  payload: { ref: "v1.2.3", steps: [1, null] },
  payloadSha256: "0f".repeat(32),
  requestedBy: "ben",
  allowSelfApproval: false,
  decisions: [{ operator: "ann", verdict: "approve", note: "ok", channel: "telegram", at }],
  createdAt: at,
  deadlineAt: at,
  objectionEndsAt: null,
  objectionSeconds: null,
  noticeDeliveredAt: null,
  remind: true,
  remindAt: [],
  remindersSent: 0,
  escalation: [],
  escalationLevel: 0,
  version: 3,
  ...over,
});

function build(service: Partial<HttpServerDeps["service"]> = {}) {
  const calls: unknown[] = [];
  const app = createHttpServer({
    service: {
      create: async (source, input) => {
        calls.push({ source, input });
        return { approval: approval(), created: true };
      },
      get: async () => approval(),
      list: async () => [approval(), approval({ id: "a2", status: "pending" })],
      cancel: async () => ({ outcome: "ignored", reason: "already_decided", approval: approval() }),
      ...service,
    },
    sources,
    waitForDecision: async () => undefined,
    health: [],
    logger: { info() {}, warn() {}, error() {} },
  });
  const reports = {
    upsertTask: async () => ({ outcome: "conflict" }),
    recordSpend: async (source: string, input: unknown) => {
      calls.push({ source, input });
      return { alerted: false };
    },
    listCommands: async () => [],
  } as unknown as ReportService;
  registerOpsRoutes(app, { reports, requireSource: createSourceAuth(sources), now: () => at });
  return { app, calls };
}

describe("authentication comes first", () => {
  it.each([
    ["POST", "/api/approvals"],
    ["GET", "/api/approvals"],
    ["GET", "/api/approvals/a1"],
    ["POST", "/api/approvals/a1/cancel"],
    ...REPORT_ROUTES,
  ] as const)("%s %s without a token is 401 even with a body that is not JSON", async (method, url) => {
    const { app, calls } = build();
    const res = await app.inject({
      method,
      url: `${url}?bogus=1`,
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: "unauthorized", message: "missing or invalid bearer token" });
    expect(calls).toEqual([]);
  });

  it("health and metrics stay open", async () => {
    const { app } = build();
    expect((await app.inject({ method: "GET", url: "/api/health" })).json()).toEqual({
      status: "healthy",
      checks: {},
    });
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(404); // no registry given
  });
});

describe("request schemas", () => {
  it("a request without a body is told which fields are required", async () => {
    const { app, calls } = build();
    const res = await app.inject({ method: "POST", url: "/api/approvals", headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: "invalid_body",
      message: "invalid body",
      problems: [
        { path: "title", message: expect.any(String) },
        { path: "gate", message: expect.any(String) },
      ],
    });
    expect(calls).toEqual([]);
  });

  it("a bad query string is the same 400, named as the query", async () => {
    const { app } = build();
    const res = await app.inject({ method: "GET", url: "/api/approvals/a1?wait=100&token=x", headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: "invalid_body",
      message: "invalid query",
      problems: [
        { path: "wait", message: expect.any(String) },
        { path: "token", message: "unknown field" },
      ],
    });
  });

  it("handlers get the parsed values: trimmed text, upper-case currency, a Date", async () => {
    const { app, calls } = build();
    await postAsSource(app, "/api/approvals", { title: "  Go  ", gate: "low" });
    await postAsSource(app, "/api/spend", { amount: 2, currency: "eur", at: "2030-01-01T01:00:00+01:00" });
    expect(calls).toEqual([
      { source: "forge", input: { title: "Go", gate: "low" } },
      { source: "forge", input: { amount: 2, currency: "EUR", at } },
    ]);
  });
});

describe("answers keep every field", () => {
  it("create, read, list and the cancel conflict answer the whole approval record", async () => {
    const { app } = build();
    const whole = JSON.parse(JSON.stringify(toApprovalRecord(approval())));
    const created = await postAsSource(app, "/api/approvals", { title: "Deploy", gate: "medium" });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual(whole);
    expect((await app.inject({ method: "GET", url: "/api/approvals/a1", headers: auth })).json()).toEqual(whole);
    const list = await app.inject({ method: "GET", url: "/api/approvals", headers: auth });
    expect(list.json().approvals[0]).toEqual(whole);
    const cancel = await app.inject({ method: "POST", url: "/api/approvals/a1/cancel", headers: auth });
    expect(cancel.statusCode).toBe(409);
    expect(cancel.json()).toEqual({ error: "conflict", message: "already approved", approval: whole });
  });

  it("a field added to a record later is sent, not stripped by the answer's schema", () => {
    const record = { ...toApprovalRecord(approval()), riskScore: 7 };
    expect(ApprovalRecordSchema.encode(record as never)).toMatchObject({ riskScore: 7 });
    const task = { id: "t", source: "forge", title: "T", state: "ready", agent: null, priority: 0, attempts: 0 };
    const times = { createdAt: "x", updatedAt: "x", stateSince: "x" };
    expect(TaskRecordSchema.encode({ ...task, error: null, ...times, lane: "b" } as never)).toMatchObject({
      lane: "b",
    });
  });

  it("a cancel that loses to contention is a 409 without a record, not a 500", async () => {
    const { app } = build({
      cancel: async () => {
        throw new AppError({
          code: "conflict",
          message: "too much contention",
          userMessage: "Busy, please try again.",
        });
      },
    });
    const res = await app.inject({ method: "POST", url: "/api/approvals/a1/cancel", headers: auth });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: "conflict", message: "Busy, please try again." });
  });
});
