/**
 * The API document against a real signoff: it is a valid OpenAPI 3.1 document (checked by an
 * independent validator), and every answer the routes really give, success and error alike,
 * matches the schema the document lists for that route and status.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateApprovalBodySchema } from "../../src/domain/requests/approval-requests.js";
import type { Signoff } from "../../src/main.js";
import { signedBySignoff, startCallbackReceiver } from "../helpers/callback-receiver.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";
import { expectDocumented, expectMatches, type OpenApiDoc, toDocPath } from "../helpers/openapi-check.js";

let s: Signoff & { schema: string; prefix: string };
let doc: OpenApiDoc;
/** `METHOD path status` of every answer checked against the document. */
const checked = new Set<string>();

beforeAll(async () => {
  s = await startTestSignoff();
  doc = (await api(s, "GET", "/api/openapi.json", undefined, null)).body;
});
afterAll(async () => {
  await s.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

/** Call the API and check the answer against the document; returns it for further checks. */
async function call(method: string, route: string, path: string, body?: unknown, token?: string | null) {
  const res = await api(s, method, path, body, token);
  expectDocumented(doc, method, route, res.status, res.body);
  checked.add(`${method} ${route} ${res.status}`);
  return res;
}

describe("the document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("the checks bite: a broken document and an undocumented answer are caught", async () => {
    const broken = structuredClone(doc);
    broken.paths["/api/approvals"].post.responses = "none";
    expect((await new Validator().validate(broken)).valid).toBe(false);
    const record = (await call("POST", "/api/approvals", "/api/approvals", { title: "probe", gate: "low" })).body;
    const { status: _dropped, ...withoutStatus } = record;
    expect(() => expectDocumented(doc, "GET", "/api/approvals/:id", 200, withoutStatus)).toThrow(/status/);
    expect(() => expectDocumented(doc, "GET", "/api/approvals/:id", 418, record)).toThrow(/does not list/);
  });

  it("is public, and marks every source route as needing the bearer token", async () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [path, item] of Object.entries<Record<string, { security?: unknown }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const isPublic = ["/", "/metrics", "/api/health", "/api/openapi.json"].includes(path);
        expect({ path, method, security: operation.security }).toEqual({
          path,
          method,
          security: isPublic ? undefined : [{ bearerAuth: [] }],
        });
      }
    }
  });

  it("documents the create body from the schema that validates it", () => {
    const body = doc.paths["/api/approvals"].post.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties).sort()).toEqual(Object.keys(CreateApprovalBodySchema.shape).sort());
    expect(body.required).toEqual(expect.arrayContaining(["title", "gate"]));
  });

  it("lists the signed callbacks as webhooks, with their headers and the approval record", () => {
    const post = doc.webhooks.approvalDecided.post;
    expect(post.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      "header:X-Signoff-Timestamp",
      "header:X-Signoff-Signature",
      "header:X-Signoff-Delivery",
    ]);
    const record = post.requestBody.content["application/json"].schema;
    const answered = doc.paths["/api/approvals/{id}"].get.responses["200"].content["application/json"].schema;
    expect(Object.keys(record.properties)).toEqual(Object.keys(answered.properties));
    expect(doc.webhooks.commandIssued.post.requestBody.content["application/json"].schema.properties).toHaveProperty(
      "task",
    );
  });

  it("gives each 503 a Retry-After header", () => {
    const answer = doc.paths["/api/approvals"].post.responses["503"];
    expect(answer.headers["Retry-After"].schema).toEqual({ type: "integer" });
  });
});

describe("real answers match the document", () => {
  it("approvals: create, repeat, read, list, cancel and their errors", async () => {
    const create = { title: "deploy", gate: "medium", reason: "release", idempotencyKey: "oa-1", metadata: { pr: 1 } };
    const created = await call("POST", "/api/approvals", "/api/approvals", create);
    expect(created.status).toBe(201);
    expect((await call("POST", "/api/approvals", "/api/approvals", create)).status).toBe(200);
    expect((await call("POST", "/api/approvals", "/api/approvals", { gate: "nope" })).status).toBe(400);
    expect((await call("POST", "/api/approvals", "/api/approvals", create, "wrong-token")).status).toBe(401);
    const huge = JSON.stringify({ ...create, reason: "x".repeat(1_100_000) });
    expect((await call("POST", "/api/approvals", "/api/approvals", huge)).status).toBe(413);

    const id = created.body.id as string;
    const one = "/api/approvals/:id";
    expect((await call("GET", one, `/api/approvals/${id}`)).body.id).toBe(id);
    expect((await call("GET", one, `/api/approvals/${id}?wait=999`)).status).toBe(400);
    expect((await call("GET", one, "/api/approvals/00000000-0000-0000-0000-000000000000")).status).toBe(404);

    const list = await call("GET", "/api/approvals", "/api/approvals?status=pending");
    expect(list.body.approvals.map((a: { id: string }) => a.id)).toContain(id);
    expect((await call("GET", "/api/approvals", "/api/approvals?status=maybe")).status).toBe(400);

    const cancel = "/api/approvals/:id/cancel";
    const cancelled = await call("POST", cancel, `/api/approvals/${id}/cancel`);
    expect(cancelled.body.status).toBe("cancelled");
    // Every field of the record reaches the client: the response schema drops nothing.
    expect(Object.keys(cancelled.body).sort()).toEqual(Object.keys(created.body).sort());
    expect((await call("POST", cancel, `/api/approvals/${id}/cancel`)).status).toBe(409);
    expect((await call("POST", cancel, "/api/approvals/00000000-0000-0000-0000-000000000000/cancel")).status).toBe(404);
  });

  it("reports and the command pull", async () => {
    const task = { id: "oa-task", title: "build", state: "ready" };
    expect((await call("POST", "/api/tasks", "/api/tasks", task)).status).toBe(201);
    expect((await call("POST", "/api/tasks", "/api/tasks", { ...task, state: "done" })).status).toBe(200);
    expect((await call("POST", "/api/tasks", "/api/tasks", { ...task, state: "??" })).status).toBe(400);
    expect((await call("POST", "/api/spend", "/api/spend", { amount: 1.5, currency: "usd" })).status).toBe(201);
    expect((await call("POST", "/api/spend", "/api/spend", { amount: -1 })).status).toBe(400);
    expect((await call("POST", "/api/heartbeats", "/api/heartbeats", { agent: "forge-ci" })).status).toBe(202);
    expect((await call("POST", "/api/notify", "/api/notify", { text: "hello", severity: "info" })).status).toBe(202);
    expect((await call("GET", "/api/commands", "/api/commands?limit=10")).status).toBe(200);
    expect((await call("GET", "/api/commands", "/api/commands?after=x")).status).toBe(400);
    expect((await call("POST", "/api/commands/ack", "/api/commands/ack", { ids: ["1"] })).status).toBe(200);
    expect((await call("POST", "/api/commands/ack", "/api/commands/ack", { ids: [] })).status).toBe(400);
    expect((await call("GET", "/api/commands", "/api/commands", undefined, null)).status).toBe(401);
  });

  it("a real callback has the documented headers and body", async () => {
    const receiver = await startCallbackReceiver();
    try {
      const created = await call("POST", "/api/approvals", "/api/approvals", {
        title: "callback probe",
        gate: "medium",
        callbackUrl: receiver.url,
      });
      await call("POST", "/api/approvals/:id/cancel", `/api/approvals/${created.body.id}/cancel`);
      const delivery = await eventually(() => receiver.received[0], "the callback");
      const post = doc.webhooks.approvalDecided.post;
      for (const header of post.parameters as Array<{ name: string; schema: object }>) {
        expectMatches(header.schema, delivery.headers[header.name.toLowerCase()], `callback header ${header.name}`);
      }
      expect(delivery.headers["x-signoff-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(signedBySignoff(delivery)).toBe(true);
      const body = JSON.parse(delivery.body);
      expect(body).toMatchObject({ id: created.body.id, status: "cancelled" });
      expectMatches(post.requestBody.content["application/json"].schema, body, "callback body");
    } finally {
      await receiver.close();
    }
  });

  it("health and the document itself", async () => {
    expect((await call("GET", "/api/health", "/api/health", undefined, null)).status).toBe(200);
    expect((await call("GET", "/api/openapi.json", "/api/openapi.json", undefined, null)).status).toBe(200);
  });

  it("the answers that are not JSON have the documented media type", async () => {
    for (const path of ["/", "/metrics"]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status).toBe(200);
      const documented = Object.keys(doc.paths[path].get.responses["200"].content);
      expect(documented).toHaveLength(1);
      expect(res.headers.get("content-type")).toContain(documented[0]);
    }
  });

  it("every documented operation was called and its success answer checked", () => {
    for (const [path, item] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(doc.paths)) {
      if (path === "/" || path === "/metrics") continue;
      for (const [method, operation] of Object.entries(item)) {
        const route = path.replace(/\{(\w+)\}/g, ":$1");
        const successes = Object.keys(operation.responses).filter((status) => status.startsWith("2"));
        for (const status of successes) expect(checked).toContain(`${method.toUpperCase()} ${route} ${status}`);
        expect(toDocPath(route)).toBe(path);
      }
    }
  });
});
