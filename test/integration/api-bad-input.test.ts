/**
 * Bad input gets a 400 naming the field and writes nothing: characters PostgreSQL cannot store,
 * JSON too deep or too large, approvers nobody can satisfy, and callback URLs that point at the
 * machine's own metadata service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { api, cleanupTestInstance, startTestSignoff } from "../helpers/harness.js";
import { sql } from "../helpers/sql.js";

let s: Signoff & { schema: string; prefix: string };
let strict: Signoff & { schema: string; prefix: string };
beforeAll(async () => {
  s = await startTestSignoff();
  strict = await startTestSignoff({
    file: { callbacks: { allowHosts: ["hooks.example.com", "*.internal.example.com"] } },
  });
});
afterAll(async () => {
  for (const x of [s, strict]) {
    await x.close();
    await cleanupTestInstance(x.schema, x.prefix);
  }
});

const countApprovals = async () =>
  (await sql<{ n: number }>(s.schema, "SELECT count(*)::int AS n FROM approvals"))[0]!.n;

/** POST a raw JSON text (so escapes such as a lone surrogate reach the server as sent). */
const postRaw = (instance: { url: string }, path: string, json: string) => api(instance, "POST", path, json);

const problemPaths = (body: { problems?: Array<{ path: string }> }) => (body.problems ?? []).map((p) => p.path);

describe("text the database cannot store", () => {
  const base = {
    title: "deploy",
    gate: "hard",
    preview: "DROP TABLE x;",
    reason: "why",
    agent: "forge",
    idempotencyKey: "k1",
  };
  it.each(["title", "reason", "agent", "preview", "idempotencyKey"])(
    "NUL in %s is a 400 naming it; nothing written",
    async (field) => {
      const before = await countApprovals();
      const res = await api(s, "POST", "/api/approvals", { ...base, [field]: "a\u0000b" });
      expect(res.status).toBe(400);
      expect(problemPaths(res.body)).toContain(field);
      expect(await countApprovals()).toBe(before);
    },
  );

  it.each([
    ["a lone high surrogate in title", `{"title":"x\\ud800y","gate":"medium"}`, "title"],
    ["a lone low surrogate in reason", `{"title":"x","reason":"\\udc00","gate":"medium"}`, "reason"],
    ["NUL inside metadata", `{"title":"x","gate":"medium","metadata":{"a":{"b":"\\u0000"}}}`, "metadata"],
    ["a lone surrogate inside metadata", `{"title":"x","gate":"medium","metadata":{"a":["ok","\\ud83d"]}}`, "metadata"],
    ["NUL in a metadata key", `{"title":"x","gate":"medium","metadata":{"k\\u0000":1}}`, "metadata"],
    [
      "NUL in an approver role",
      `{"title":"x","gate":"medium","approvers":{"roles":["own\\u0000er"]}}`,
      "approvers.roles.0",
    ],
  ])("%s is a 400 naming the field", async (_what, json, field) => {
    const before = await countApprovals();
    const res = await postRaw(s, "/api/approvals", json);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(problemPaths(res.body)).toContain(field);
    expect(await countApprovals()).toBe(before);
  });

  it("a well-formed surrogate pair (an emoji) is fine", async () => {
    const res = await postRaw(
      s,
      "/api/approvals",
      `{"title":"ship \\ud83d\\ude80","gate":"auto","metadata":{"icon":"\\ud83d\\ude80"}}`,
    );
    expect(res.status).toBe(201);
    expect(res.body.title).toBe("ship 🚀");
  });

  it.each([
    ["/api/tasks", `{"id":"T-1","title":"a\\u0000","state":"ready"}`, "title"],
    ["/api/heartbeats", `{"agent":"forge","detail":"\\ud800"}`, "detail"],
    ["/api/notify", `{"text":"hi\\u0000"}`, "text"],
    ["/api/spend", `{"amount":1,"agent":"\\u0000"}`, "agent"],
  ])("%s: unstorable text is a 400 naming %s", async (path, json, field) => {
    const res = await postRaw(s, path, json);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(problemPaths(res.body)).toContain(field);
  });
});

describe("metadata size and depth", () => {
  it("nested 5,000 deep is a 400, not a stack overflow", async () => {
    const deep = `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`;
    const res = await postRaw(s, "/api/approvals", `{"title":"x","gate":"medium","metadata":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.body.problems[0]).toMatchObject({ path: "metadata", message: expect.stringMatching(/32 levels/) });
  });

  it("32 levels are fine; 33 are not", async () => {
    const nest = (n: number) => `${'{"a":'.repeat(n - 1)}{}${"}".repeat(n - 1)}`;
    expect((await postRaw(s, "/api/approvals", `{"title":"x","gate":"auto","metadata":${nest(32)}}`)).status).toBe(201);
    expect((await postRaw(s, "/api/approvals", `{"title":"x","gate":"auto","metadata":${nest(33)}}`)).status).toBe(400);
  });

  it("more than 16 KiB is a 400 (counted in bytes)", async () => {
    const res = await api(s, "POST", "/api/approvals", {
      title: "x",
      gate: "medium",
      metadata: { blob: "é".repeat(9_000) },
    });
    expect(res.status).toBe(400);
    expect(problemPaths(res.body)).toEqual(["metadata"]);
  });
});

describe("approvers nobody can satisfy", () => {
  it("roles no operator holds: 400 naming approvers; nothing written", async () => {
    const before = await countApprovals();
    const res = await api(s, "POST", "/api/approvals", { title: "x", gate: "medium", approvers: { roles: ["cfo"] } });
    expect(res.status).toBe(400);
    expect(problemPaths(res.body)).toEqual(["approvers.roles"]);
    expect(await countApprovals()).toBe(before);
  });

  it("a quorum above the eligible operators: 400 naming approvers.quorum", async () => {
    // ops-lead: only bob; owner + approver by default: adam, eve, bob.
    const one = await api(s, "POST", "/api/approvals", {
      title: "x",
      gate: "hard",
      preview: "p",
      approvers: { roles: ["ops-lead"], quorum: 2 },
    });
    expect(one.status).toBe(400);
    expect(problemPaths(one.body)).toEqual(["approvers.quorum"]);
    const four = await api(s, "POST", "/api/approvals", { title: "x", gate: "medium", approvers: { quorum: 4 } });
    expect(four.status).toBe(400);
    const three = await api(s, "POST", "/api/approvals", { title: "x", gate: "medium", approvers: { quorum: 3 } });
    expect(three.status).toBe(201);
  });

  it("auto and prohibited need nobody, so any approvers are accepted", async () => {
    expect(
      (await api(s, "POST", "/api/approvals", { title: "x", gate: "auto", approvers: { roles: ["cfo"] } })).status,
    ).toBe(201);
  });
});

describe("callbackUrl", () => {
  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/", // the same address as a number
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/hook",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://169.254.1.1:8080/x",
    "ftp://example.com/x",
  ])("%s is refused with a 400 naming callbackUrl", async (url) => {
    const res = await api(s, "POST", "/api/approvals", { title: "x", gate: "auto", callbackUrl: url });
    expect(res.status).toBe(400);
    expect(problemPaths(res.body)).toEqual(["callbackUrl"]);
  });

  it("ordinary hosts are accepted without an allow list", async () => {
    expect(
      (await api(s, "POST", "/api/approvals", { title: "x", gate: "auto", callbackUrl: "http://127.0.0.1:9/cb" }))
        .status,
    ).toBe(201);
  });

  it("callbacks.allowHosts admits only the hosts it names", async () => {
    const ok = ["https://hooks.example.com/cb", "https://ci.internal.example.com/cb"];
    for (const url of ok)
      expect(
        (await api(strict, "POST", "/api/approvals", { title: "x", gate: "auto", callbackUrl: url })).status,
        url,
      ).toBe(201);
    for (const url of [
      "https://evil.example.com/cb",
      "https://internal.example.com.evil.net/cb",
      "http://127.0.0.1:9/cb",
    ]) {
      const res = await api(strict, "POST", "/api/approvals", { title: "x", gate: "auto", callbackUrl: url });
      expect(res.status, url).toBe(400);
      expect(res.body.problems[0]).toMatchObject({ path: "callbackUrl", message: expect.stringMatching(/allowHosts/) });
    }
  });
});
