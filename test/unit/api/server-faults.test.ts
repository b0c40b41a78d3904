/**
 * The HTTP layer under faults, with tiny fakes: a dependency that hangs makes health say 503
 * within 2 s; an unreachable dependency is a 503 with Retry-After, logged once per outage; an
 * unexpected error is a 500 whose log line names the route, never the URL (a query string may
 * carry a token).
 */
import { describe, expect, it } from "vitest";
import { createHttpServer, type HttpServerDeps } from "../../../src/api/server.js";
import { auth, postAsSource, sources } from "../../helpers/source-http.js";

function build(over: Partial<HttpServerDeps> = {}) {
  const lines: Array<{ level: string; o: Record<string, unknown>; m?: string | undefined }> = [];
  const push = (level: string) => (o: object, m?: string) =>
    void lines.push({ level, o: o as Record<string, unknown>, m });
  const service: HttpServerDeps["service"] = {
    create: async () => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    },
    get: async () => {
      throw new Error("boom");
    },
    list: async () => [],
    cancel: async () => {
      throw new Error("boom");
    },
  };
  const app = createHttpServer({
    service,
    sources,
    waitForDecision: async () => undefined,
    health: [],
    logger: { info: push("info"), warn: push("warn"), error: push("error") },
    unavailableDependency: (e) => ((e as { code?: string }).code === "ECONNREFUSED" ? "postgres" : null),
    ...over,
  });
  return { app, lines };
}

describe("health", () => {
  it("a check that hangs is reported down, and health answers 503 within 2 s", async () => {
    const { app } = build({
      health: [
        { name: "postgres", check: async () => ({ ok: true }) },
        { name: "redis", check: () => new Promise(() => undefined) },
      ],
    });
    const started = Date.now();
    const res = await app.inject({ method: "GET", url: "/api/health" });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: "unhealthy",
      down: ["redis"],
      checks: { postgres: { status: "up" }, redis: { status: "down" } },
    });
  });
});

describe("errors", () => {
  it("an unreachable dependency is 503 with Retry-After, warned once for the whole outage", async () => {
    const { app, lines } = build();
    for (let i = 0; i < 5; i++) {
      const res = await postAsSource(app, "/api/approvals", { title: "x", gate: "auto" });
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.json()).toMatchObject({ error: "unavailable" });
    }
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(lines.filter((l) => l.level === "error")).toHaveLength(0);
  });

  it("an unexpected error is a 500 logged with the route, never the URL and its query string", async () => {
    const { app, lines } = build();
    const res = await app.inject({
      method: "POST",
      url: "/api/approvals/0b7e6a9e-0000-4000-8000-000000000000/cancel?token=s3cret-in-query",
      headers: auth,
    });
    expect(res.statusCode).toBe(500);
    const logged = JSON.stringify(lines);
    expect(logged).toContain("/api/approvals/:id/cancel");
    expect(logged).not.toContain("s3cret-in-query");
  });
});
