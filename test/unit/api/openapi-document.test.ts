/**
 * The API document as the framework builds it, with tiny fakes behind: every /api route the
 * server serves is in it (channel routes are not), and the answers that need a broken
 * dependency or a fault (503 with Retry-After, 500, a down health check) match it too.
 */
import { describe, expect, it } from "vitest";
import { registerOpsRoutes } from "../../../src/api/ops-routes.js";
import { createHttpServer, createSourceAuth, type HttpServerDeps } from "../../../src/api/server.js";
import { toCommandRecord } from "../../../src/domain/operations.js";
import type { ReportService } from "../../../src/handlers/chatops/report-service.js";
import {
  expectDocumented,
  expectMatches,
  type OpenApiDoc,
  servedRoutes,
  toDocPath,
} from "../../helpers/openapi-check.js";
import { auth, sources } from "../../helpers/source-http.js";

const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

/** The app as `wireHttp` builds it, plus a channel route added the way channels add theirs. */
async function build(over: Partial<HttpServerDeps> = {}) {
  const app = createHttpServer({
    service: {
      create: async () => {
        throw refused();
      },
      get: async () => {
        throw new Error("boom");
      },
      list: async () => [],
      cancel: async () => {
        throw refused();
      },
    },
    sources,
    waitForDecision: async () => undefined,
    health: [{ name: "redis", check: async () => ({ ok: false, detail: { error: "no answer" } }) }],
    logger: { info() {}, warn() {}, error() {} },
    unavailableDependency: (e) => ((e as { code?: string }).code === "ECONNREFUSED" ? "postgres" : null),
    ...over,
  });
  registerOpsRoutes(app, { reports: {} as ReportService, requireSource: createSourceAuth(sources) });
  app.post("/telegram/webhook", async () => "");
  const doc: OpenApiDoc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
  return { app, doc };
}

describe("coverage", () => {
  it("documents every /api route the server serves, and no channel route", async () => {
    const { app, doc } = await build();
    const served = servedRoutes(app.printRoutes({ commonPrefix: false }));
    const api = served.filter(([, path]) => path.startsWith("/api/"));
    expect(api.length).toBeGreaterThanOrEqual(12);
    for (const [method, path] of api) {
      expect({ method, path, documented: Boolean(doc.paths[toDocPath(path)]?.[method.toLowerCase()]) }).toEqual({
        method,
        path,
        documented: true,
      });
    }
    expect(served).toContainEqual(["POST", "/telegram/webhook"]);
    expect(doc.paths).not.toHaveProperty("/telegram/webhook");
    expect(doc.paths).not.toHaveProperty("/favicon.ico");
  });
});

describe("base URL", () => {
  it("names the serving signoff as its server, so generated clients need no host baked in", async () => {
    const { doc } = await build();
    expect((doc as unknown as { servers: Array<{ url: string }> }).servers).toEqual([
      expect.objectContaining({ url: "/" }),
    ]);
  });
});

describe("answers under faults match the document", () => {
  it("an unreachable database: 503 with Retry-After", async () => {
    const { app, doc } = await build();
    const res = await app.inject({
      method: "POST",
      url: "/api/approvals",
      headers: auth,
      payload: { title: "t", gate: "low" },
    });
    expect(res.statusCode).toBe(503);
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    expectDocumented(doc, "POST", "/api/approvals", 503, res.json());
    const cancel = await app.inject({ method: "POST", url: "/api/approvals/a1/cancel", headers: auth });
    expect(cancel.statusCode).toBe(503);
    expectDocumented(doc, "POST", "/api/approvals/:id/cancel", 503, cancel.json());
  });

  it("an unexpected fault: 500", async () => {
    const { app, doc } = await build();
    const res = await app.inject({ method: "GET", url: "/api/approvals/a1", headers: auth });
    expect(res.statusCode).toBe(500);
    expectDocumented(doc, "GET", "/api/approvals/:id", 500, res.json());
  });

  it("a health check down: 503 naming it", async () => {
    const { app, doc } = await build();
    const res = await app.inject({ method: "GET", url: "/api/health" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: "unhealthy", down: ["redis"] });
    expectDocumented(doc, "GET", "/api/health", 503, res.json());
  });

  it("still starting: the early 503 matches the documented 503 too", async () => {
    const { doc } = await build();
    for (const [method, path] of [
      ["GET", "/api/health"],
      ["POST", "/api/approvals"],
    ] as const) {
      expectDocumented(doc, method, path, 503, { status: "starting" });
    }
  });
});

describe("the command webhook", () => {
  it("documents the body a source's commandUrl receives", async () => {
    const { doc } = await build();
    const at = new Date("2030-01-01T00:00:00Z");
    const task = { id: "T-1", source: "forge", title: "build", state: "ready" as const, agent: null, priority: 5 };
    const body = toCommandRecord({
      id: "7",
      command: "prioritise",
      taskId: "T-1",
      source: "forge",
      requestedBy: "adam",
      createdAt: at,
      task: { ...task, attempts: 0, error: null, createdAt: at, updatedAt: at, stateSince: at },
    });
    const schema = doc.webhooks.commandIssued.post.requestBody.content["application/json"].schema;
    expectMatches(schema, JSON.parse(JSON.stringify(body)), "command webhook body");
    expect(() => expectMatches(schema, { ...body, command: "explode" }, "a command nobody sends")).toThrow();
  });
});
