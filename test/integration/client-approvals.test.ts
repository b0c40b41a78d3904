/**
 * The requester client against a real signoff (PostgreSQL, Redis, the web chat): requireApproval
 * resolves with every kind of decision and never throws on a "no", survives a network drop and a
 * lost answer without making a second request, times out, aborts, and reports refusals with the
 * fields to fix.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/client/client.js";
import {
  SignoffAbortError,
  SignoffRequestError,
  SignoffTimeoutError,
  SignoffTransportError,
} from "../../src/client/errors.js";
import type { ApprovalRecord } from "../../src/client/types.js";
import type { Signoff } from "../../src/main.js";
import { SOURCE_TOKEN, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";
import { sql } from "../helpers/sql.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";

let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  s = await startTestSignoff();
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

const cardFor = async (chat: string, code: string) =>
  eventually(
    () => s.webchat!.history(chat).find((m) => m.from === "bot" && m.text.includes(code) && m.buttons.length > 0),
    `card ${code} in ${chat}'s chat`,
  );

/** Start requireApproval and hand back the record as soon as it is on record, with the pending decision. */
async function ask(client: ReturnType<typeof createClient>, title: string, options: { timeoutMs?: number } = {}) {
  let created: ApprovalRecord | undefined;
  const decision = client.requireApproval(
    { title, gate: "medium" },
    { timeoutMs: options.timeoutMs ?? 20_000, onCreated: (a) => (created = a) },
  );
  decision.catch(() => undefined); // awaited by the test; keeps an early failure from going unhandled
  const approval = await eventually(() => created, `${title} created`);
  return { approval, decision };
}

const rowsTitled = async (title: string) =>
  (await sql<{ n: string }>(s.schema, "SELECT count(*) AS n FROM approvals WHERE title = $1", [title]))[0]!.n;

describe("requireApproval", () => {
  it("resolves approved when an operator approves", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const { approval, decision } = await ask(client, "deploy api to prod");
    expect(approval.status).toBe("pending");
    const card = await cardFor("eve", approval.code);
    await s.webchat!.operatorPresses("eve", card.id, card.buttons[0]!.data);
    await expect(decision).resolves.toMatchObject({ id: approval.id, status: "approved", decidedBy: "eve" });
  });

  it("resolves rejected, and changes requested, with the note, without throwing", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const first = await ask(client, "drop the cache");
    await s.webchat!.operatorSays("adam", "❌ not during the sale", (await cardFor("adam", first.approval.code)).id);
    await expect(first.decision).resolves.toMatchObject({
      status: "rejected",
      decidedBy: "adam",
      note: "not during the sale",
    });

    const second = await ask(client, "migrate the db");
    await s.webchat!.operatorSays("adam", "📝 use staging first", (await cardFor("adam", second.approval.code)).id);
    await expect(second.decision).resolves.toMatchObject({ status: "changes_requested", note: "use staging first" });
  });

  it("resolves cancelled when the request is cancelled while waiting", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const { approval, decision } = await ask(client, "rotate keys");
    expect((await client.listPending()).map((a) => a.id)).toContain(approval.id);
    await expect(client.cancel(approval.id)).resolves.toMatchObject({ status: "cancelled" });
    await expect(decision).resolves.toMatchObject({ id: approval.id, status: "cancelled" });
    // a second cancel finds it decided and says so with the record, not an error
    await expect(client.cancel(approval.id)).resolves.toMatchObject({ status: "cancelled" });
    expect((await client.listPending()).map((a) => a.id)).not.toContain(approval.id);
  });

  it("rides out a network drop between the create and the decision, with one request on record", async () => {
    const proxy = await startTcpProxy(s.url);
    try {
      const client = createClient({ url: proxy.url, token: SOURCE_TOKEN });
      const title = `scale up ${randomUUID()}`;
      const { approval, decision } = await ask(client, title);
      await eventually(() => proxy.connections() >= 1, "the long poll to be open");
      await proxy.down(); // the waiting poll is cut and new connections are refused
      const card = await cardFor("bob", approval.code);
      await s.webchat!.operatorPresses("bob", card.id, card.buttons[0]!.data);
      await new Promise((r) => setTimeout(r, 400)); // a few refused retries
      await proxy.up();
      await expect(decision).resolves.toMatchObject({ id: approval.id, status: "approved", decidedBy: "bob" });
      expect(proxy.connections()).toBeGreaterThan(1); // it did reconnect after the drop
      expect(await rowsTitled(title)).toBe("1");
    } finally {
      await proxy.close();
    }
  });

  it("resends a create whose answer was lost with the same key: one request, not two", async () => {
    let creates = 0;
    const keys: string[] = [];
    // The first create reaches signoff and is recorded, then its answer is lost on the way back.
    const losingFetch: typeof fetch = async (url, init) => {
      const response = await fetch(url, init);
      if (init?.method === "POST" && String(url).endsWith("/api/approvals")) {
        keys.push(JSON.parse(String(init.body)).idempotencyKey);
        if (++creates === 1) throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
      }
      return response;
    };
    const client = createClient({ url: s.url, token: SOURCE_TOKEN, fetch: losingFetch });
    const title = `bump deps ${randomUUID()}`;
    const { approval, decision } = await ask(client, title);
    expect(creates).toBe(2);
    expect(keys[0]).toBe(keys[1]);
    expect(await rowsTitled(title)).toBe("1");
    await client.cancel(approval.id);
    await expect(decision).resolves.toMatchObject({ status: "cancelled" });
  });

  it("retries a 503 with Retry-After until signoff answers", async () => {
    let calls = 0;
    const busyFetch: typeof fetch = async (url, init) =>
      ++calls <= 2
        ? new Response('{"error":"unavailable"}', { status: 503, headers: { "retry-after": "0" } })
        : fetch(url, init);
    const client = createClient({ url: s.url, token: SOURCE_TOKEN, fetch: busyFetch });
    await expect(client.requireApproval({ title: "rotate logs", gate: "auto" })).resolves.toMatchObject({
      status: "approved",
      decidedBy: "policy",
    });
    expect(calls).toBe(3);
  });

  it("throws SignoffTimeoutError with the still-pending record when nobody decides in time", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const error = await client
      .requireApproval({ title: "nobody looks", gate: "medium" }, { timeoutMs: 1200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignoffTimeoutError);
    const { approval } = error as SignoffTimeoutError;
    expect(approval.status).toBe("pending");
    expect((await client.getApproval(approval.id)).status).toBe("pending"); // left for operators, not cancelled
    await client.cancel(approval.id);
  });

  it("stops waiting with an AbortError when the signal aborts, naming the request", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const controller = new AbortController();
    let created: ApprovalRecord | undefined;
    const decision = client.requireApproval(
      { title: "abort me", gate: "medium" },
      { signal: controller.signal, onCreated: (a) => (created = a) },
    );
    const approval = await eventually(() => created, "created");
    controller.abort();
    const error = await decision.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignoffAbortError);
    expect((error as Error).name).toBe("AbortError");
    expect((error as SignoffAbortError).approvalId).toBe(approval.id);
    await client.cancel(approval.id);
  });

  it("throws SignoffRequestError naming the field for a bad request, and never creates it", async () => {
    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    const error = await client
      .requireApproval({ title: "wipe staging", gate: "hard" }, { timeoutMs: 5000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignoffRequestError);
    expect(error).toMatchObject({ status: 400, code: "invalid_body" });
    expect((error as SignoffRequestError).problems.map((p) => p.path)).toEqual(["preview"]);
    expect(await rowsTitled("wipe staging")).toBe("0");

    const bad = await client.createApproval({ title: "x", gate: "huge" as "low" }).catch((e: unknown) => e);
    expect((bad as SignoffRequestError).problems.map((p) => p.path)).toEqual(["gate"]);
  });

  it("throws SignoffRequestError for a wrong token (401) and an unknown id (404), never showing the token", async () => {
    const wrong = createClient({ url: s.url, token: "not-the-token-xyz" });
    const unauthorized = (await wrong.listPending().catch((e: unknown) => e)) as SignoffRequestError;
    expect(unauthorized).toBeInstanceOf(SignoffRequestError);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.message).not.toContain("not-the-token-xyz");

    const client = createClient({ url: s.url, token: SOURCE_TOKEN });
    await expect(client.getApproval(randomUUID())).rejects.toMatchObject({ status: 404, code: "not_found" });
  });

  it("throws SignoffTransportError when signoff stays unreachable", async () => {
    const proxy = await startTcpProxy(s.url);
    await proxy.down(); // a port that refuses connections
    const client = createClient({ url: proxy.url, token: SOURCE_TOKEN, retryBudgetMs: 600 });
    const error = await client.listPending().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignoffTransportError);
    expect((error as SignoffTransportError).attempts).toBeGreaterThan(1);
    const waited = await client
      .requireApproval({ title: "never sent", gate: "medium" }, { timeoutMs: 600 })
      .catch((e: unknown) => e);
    expect(waited).toBeInstanceOf(SignoffTransportError);
    expect(await rowsTitled("never sent")).toBe("0");
  });
});
