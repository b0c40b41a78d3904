/**
 * Requests that arrive while the rest of start-up runs (the port is bound first): they are
 * answered "starting" by the bound server until the app is ready, never run a route before its
 * authentication is in place, and never take the process down.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type BoundHttpServer, listenEarly } from "../../../src/api/early-listen.js";
import { createHttpServer, type HttpServerDeps } from "../../../src/api/server.js";

let bound: BoundHttpServer | undefined;
afterEach(async () => {
  await bound?.close(100);
  bound = undefined;
});

describe("requests during start-up", () => {
  it("are 503 starting until ready, then reach the app with its authentication", async () => {
    bound = await listenEarly(0, "127.0.0.1");
    const reached: string[] = [];
    const service = {
      create: async (source: string) => {
        reached.push(source);
        throw new Error("the service must not be reached");
      },
    } as unknown as HttpServerDeps["service"];
    const app = createHttpServer({
      service,
      sources: [],
      waitForDecision: async () => undefined,
      health: [],
      logger: { info() {}, warn() {}, error() {} },
      server: bound,
    });
    const post = () =>
      fetch(`${bound!.url}/api/approvals`, {
        signal: AbortSignal.timeout(5_000),
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title: "Deploy", gate: "auto" }),
      });

    for (const res of [await post(), await fetch(`${bound.url}/no-such-route`)]) {
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "starting" });
    }

    await app.ready();
    const after = await post();
    expect(after.status).toBe(401);
    expect((await fetch(`${bound.url}/api/health`)).status).toBe(200);
    expect(reached).toEqual([]);
    await app.close();
  });
});
