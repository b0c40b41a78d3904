/**
 * Each gate's whole life through the HTTP API and the web chat, on the real PostgreSQL and Redis.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

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

describe("auto gate", () => {
  it("is approved at once by policy, with no card", async () => {
    const res = await api(s, "POST", "/api/approvals", { title: "rotate logs", gate: "auto" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "approved", decidedBy: "policy", gate: "auto" });
    expect(res.body.decidedAt).toBe(res.body.createdAt);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.webchat!.history("adam").some((m) => m.text.includes(res.body.code))).toBe(false);
  });
});

describe("low gate", () => {
  it("is approved by the objection window when nobody objects", async () => {
    const res = await api(s, "POST", "/api/approvals", { title: "restart worker", gate: "low", objectionSeconds: 0.4 });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
    const notice = await eventually(
      () => s.webchat!.history("eve").find((m) => m.text.includes(res.body.code)),
      "notice",
    );
    expect(notice.text).toContain("Proceeding in");
    const done = await eventually(async () => {
      const r = await api(s, "GET", `/api/approvals/${res.body.id}`);
      return r.body.status === "approved" ? r.body : null;
    }, "window to end");
    expect(done.decidedBy).toBe("objection-window");
    expect(new Date(done.decidedAt).getTime()).toBeGreaterThanOrEqual(new Date(done.objectionEndsAt).getTime() - 25);
    // the notice is edited to show the outcome
    await eventually(
      () => s.webchat!.history("eve").find((m) => m.id === notice.id && m.text.includes("Approved")),
      "notice edit",
    );
  });

  it("is rejected when ❌ arrives inside the window", async () => {
    const res = await api(s, "POST", "/api/approvals", { title: "drop cache", gate: "low", objectionSeconds: 2 });
    const notice = await eventually(
      () => s.webchat!.history("adam").find((m) => m.text.includes(res.body.code)),
      "notice",
    );
    await s.webchat!.operatorReacts("adam", notice.id, "❌");
    const r = await api(s, "GET", `/api/approvals/${res.body.id}`);
    expect(r.body).toMatchObject({ status: "rejected", decidedBy: "adam" });
    await new Promise((r) => setTimeout(r, 2300));
    const after = await api(s, "GET", `/api/approvals/${res.body.id}`);
    expect(after.body.status).toBe("rejected"); // the timer did not overturn it
    expect(after.body.decisions).toHaveLength(1);
  });
});

describe("medium gate", () => {
  it("applies onTimeout (deny by default) at the deadline", async () => {
    const res = await api(s, "POST", "/api/approvals", { title: "migrate db", gate: "medium", deadlineSeconds: 0.5 });
    expect(res.body.deadlineAt).toBeTruthy();
    const r = await api(s, "GET", `/api/approvals/${res.body.id}?wait=5`);
    expect(r.body).toMatchObject({ status: "rejected", decidedBy: "timeout" });
  });

  it("applies onTimeout approve when asked", async () => {
    const res = await api(s, "POST", "/api/approvals", {
      title: "bump deps",
      gate: "medium",
      deadlineSeconds: 0.3,
      onTimeout: "approve",
    });
    const r = await api(s, "GET", `/api/approvals/${res.body.id}?wait=5`);
    expect(r.body).toMatchObject({ status: "approved", decidedBy: "timeout" });
  });

  it("is decided by a reply, a button, a code, and a bare yes", async () => {
    const a = (await api(s, "POST", "/api/approvals", { title: "deploy api", gate: "medium", agent: "forge" })).body;
    const card = await cardFor("adam", a.code);
    expect(card.text).toContain("Reply ✅ approve | ❌ reject | 📝 modify");
    await s.webchat!.operatorSays("adam", "❌ not now", card.id);
    expect((await api(s, "GET", `/api/approvals/${a.id}`)).body).toMatchObject({
      status: "rejected",
      decidedBy: "adam",
      note: "not now",
    });

    const b = (await api(s, "POST", "/api/approvals", { title: "scale up", gate: "medium" })).body;
    const cardB = await cardFor("eve", b.code);
    const toast = await s.webchat!.operatorPresses("eve", cardB.id, cardB.buttons[0]!.data);
    expect(toast).toContain("Approved");
    expect((await api(s, "GET", `/api/approvals/${b.id}`)).body).toMatchObject({
      status: "approved",
      decidedBy: "eve",
    });
    // every card of b, on every operator's chat, shows the outcome
    for (const chat of ["adam", "eve", "bob"]) {
      await eventually(
        () =>
          s
            .webchat!.history(chat)
            .find((m) => m.text.includes(b.code) && m.text.includes("Approved") && m.text.includes("by eve")),
        `${chat}'s card edit`,
      );
    }

    const c = (await api(s, "POST", "/api/approvals", { title: "rename bucket", gate: "medium" })).body;
    await s.webchat!.operatorSays("bob", `modify ${c.code.toLowerCase()} use staging first`);
    expect((await api(s, "GET", `/api/approvals/${c.id}`)).body).toMatchObject({
      status: "changes_requested",
      note: "use staging first",
      decidedBy: "bob",
    });

    const d = (await api(s, "POST", "/api/approvals", { title: "only one", gate: "medium" })).body;
    await s.webchat!.operatorSays("adam", "yes");
    expect((await api(s, "GET", `/api/approvals/${d.id}`)).body).toMatchObject({
      status: "approved",
      decidedBy: "adam",
    });
  });

  it("tells a late answer who decided, and changes nothing", async () => {
    const a = (await api(s, "POST", "/api/approvals", { title: "late answer", gate: "medium" })).body;
    const card = await cardFor("bob", a.code);
    await s.webchat!.operatorReacts("bob", card.id, "👍🏽");
    await s.webchat!.operatorSays("eve", `reject ${a.code}`);
    const reply = await eventually(
      () => s.webchat!.history("eve").find((m) => m.from === "bot" && m.text.includes("already approved by bob")),
      "already-decided reply",
    );
    expect(reply.text).toContain(a.code);
    const record = (await api(s, "GET", `/api/approvals/${a.id}`)).body;
    expect(record).toMatchObject({ status: "approved", decidedBy: "bob" });
    expect(record.decisions).toHaveLength(1);
  });

  it("lets a viewer change nothing (and audits the attempt)", async () => {
    const a = (await api(s, "POST", "/api/approvals", { title: "viewer tries", gate: "medium" })).body;
    await s.webchat!.operatorSays("vic", `approve ${a.code}`);
    expect((await api(s, "GET", `/api/approvals/${a.id}`)).body.status).toBe("pending");
    const audit = await s.audit.listBySubject(a.id);
    expect(audit.map((e) => e.action)).toContain("approval.answer_refused");
    await api(s, "POST", `/api/approvals/${a.id}/cancel`, {});
  });
});

describe("hard gate", () => {
  it("needs a quorum from the named roles; one approver twice counts once", async () => {
    const a = (
      await api(s, "POST", "/api/approvals", {
        title: "delete prod db",
        gate: "hard",
        preview: "DROP DATABASE x;",
        approvers: { roles: ["owner", "ops-lead"], quorum: 2 },
      })
    ).body;
    const card = await cardFor("adam", a.code);
    expect(card.text).toContain("DROP DATABASE x;");
    expect(s.webchat!.history("eve").some((m) => m.text.includes(a.code))).toBe(false); // eve is not owner/ops-lead
    await s.webchat!.operatorSays("eve", `approve ${a.code}`);
    await s.webchat!.operatorSays("adam", `approve ${a.code}`);
    await s.webchat!.operatorSays("adam", `approve ${a.code}`);
    let record = (await api(s, "GET", `/api/approvals/${a.id}`)).body;
    expect(record.status).toBe("pending");
    expect(record.decisions.map((d: { operator: string }) => d.operator)).toEqual(["adam"]);
    await s.webchat!.operatorSays("bob", `approve ${a.code}`);
    record = (await api(s, "GET", `/api/approvals/${a.id}`)).body;
    expect(record).toMatchObject({ status: "approved", decidedBy: "bob" });
    expect(record.decisions.map((d: { operator: string }) => d.operator)).toEqual(["adam", "bob"]);
  });

  it("is rejected by a single ❌ and denied at the deadline", async () => {
    const a = (
      await api(s, "POST", "/api/approvals", {
        title: "wipe",
        gate: "hard",
        preview: "rm -rf /data",
        approvers: { quorum: 2 },
      })
    ).body;
    await s.webchat!.operatorSays("adam", `approve ${a.code}`);
    await s.webchat!.operatorSays("eve", `reject ${a.code} no`);
    expect((await api(s, "GET", `/api/approvals/${a.id}`)).body).toMatchObject({
      status: "rejected",
      decidedBy: "eve",
    });

    const b = (
      await api(s, "POST", "/api/approvals", {
        title: "wipe later",
        gate: "hard",
        preview: "rm -rf /old",
        deadlineSeconds: 0.3,
      })
    ).body;
    expect((await api(s, "GET", `/api/approvals/${b.id}?wait=5`)).body).toMatchObject({
      status: "rejected",
      decidedBy: "timeout",
    });
  });
});

describe("prohibited gate", () => {
  it("is refused at once and owners and approvers get an advisory", async () => {
    const res = await api(s, "POST", "/api/approvals", { title: "transfer funds", gate: "prohibited" });
    expect(res.body).toMatchObject({ status: "rejected", decidedBy: "policy" });
    const advisory = await eventually(
      () => s.webchat!.history("adam").find((m) => m.text.includes(res.body.code)),
      "advisory to owner",
    );
    expect(advisory.text).toContain("do it yourself");
    await eventually(
      () => s.webchat!.history("eve").find((m) => m.text.includes(res.body.code)),
      "advisory to an approver",
    );
    expect(s.webchat!.history("vic").some((m) => m.text.includes(res.body.code))).toBe(false); // a viewer could not have approved
  });
});

describe("pause", () => {
  it("turns low into medium while paused, and the state survives in PostgreSQL", async () => {
    await s.settings.setPaused(true, "adam");
    try {
      const res = await api(s, "POST", "/api/approvals", { title: "paused low", gate: "low", objectionSeconds: 0.2 });
      expect(res.body).toMatchObject({ gate: "low", effectiveGate: "medium", status: "pending" });
      expect(res.body.deadlineAt).toBeTruthy();
      await new Promise((r) => setTimeout(r, 500));
      expect((await api(s, "GET", `/api/approvals/${res.body.id}`)).body.status).toBe("pending");
      await api(s, "POST", `/api/approvals/${res.body.id}/cancel`, {});
      // A second process on the same database (a restart) sees the pause: it lives in PostgreSQL.
      const other = await startTestSignoff({ schema: s.schema, prefix: `${s.prefix}_b` });
      try {
        expect(await other.settings.isPaused()).toBe(true);
        const viaOther = await api(other, "POST", "/api/approvals", { title: "paused elsewhere", gate: "auto" });
        expect(viaOther.body).toMatchObject({ effectiveGate: "medium", status: "pending" });
        await api(other, "POST", `/api/approvals/${viaOther.body.id}/cancel`, {});
      } finally {
        await other.close();
        await cleanupTestInstance("t_never_created", `${s.prefix}_b`);
      }
    } finally {
      await s.settings.setPaused(false, "adam");
    }
  });
});

describe("pause reaching a waiting low request", () => {
  it("escalates it to medium at the end of its window: it waits for a person, its notice becomes a card", async () => {
    const res = await api(s, "POST", "/api/approvals", {
      title: "restart during pause",
      gate: "low",
      objectionSeconds: 0.6,
    });
    expect(res.body.effectiveGate).toBe("low");
    const notice = await eventually(
      () => s.webchat!.history("eve").find((m) => m.text.includes(res.body.code)),
      "notice",
    );
    await s.settings.setPaused(true, "adam");
    try {
      const card = await eventually(
        () =>
          s
            .webchat!.history("eve")
            .find((m) => m.id === notice.id && m.text.includes("Approval needed") && m.buttons.length === 3),
        "the notice turned into a card",
      );
      const record = (await api(s, "GET", `/api/approvals/${res.body.id}`)).body;
      expect(record).toMatchObject({ status: "pending", gate: "low", effectiveGate: "medium", onTimeout: "deny" });
      expect(record.deadlineAt).toBeTruthy();
      expect((await s.audit.listBySubject(res.body.id)).map((e) => e.action)).toContain("approval.escalated");
      await s.webchat!.operatorPresses("eve", card.id, card.buttons[0]!.data);
      expect((await api(s, "GET", `/api/approvals/${res.body.id}`)).body).toMatchObject({
        status: "approved",
        decidedBy: "eve",
      });
    } finally {
      await s.settings.setPaused(false, "adam");
    }
  });
});

describe("API surface", () => {
  it("returns the same record for a repeated idempotency key, with one card", async () => {
    const body = { title: "idempotent", gate: "medium", idempotencyKey: "deploy-42" };
    const first = await api(s, "POST", "/api/approvals", body);
    const second = await api(s, "POST", "/api/approvals", body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    await cardFor("adam", first.body.code);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.webchat!.history("adam").filter((m) => m.text.includes(first.body.code)).length).toBe(1);
  });

  it("cancels a pending request, updates its cards, and refuses a second cancel", async () => {
    const a = (await api(s, "POST", "/api/approvals", { title: "to cancel", gate: "medium" })).body;
    await cardFor("eve", a.code);
    const cancelled = await api(s, "POST", `/api/approvals/${a.id}/cancel`, {});
    expect(cancelled.body).toMatchObject({ status: "cancelled", decidedBy: "forge" });
    expect((await api(s, "POST", `/api/approvals/${a.id}/cancel`, {})).status).toBe(409);
    await eventually(
      () => s.webchat!.history("eve").find((m) => m.text.includes(a.code) && m.text.includes("Cancelled")),
      "cancelled card",
    );
  });

  it("lists pending approvals and 404s unknown ids", async () => {
    const a = (await api(s, "POST", "/api/approvals", { title: "listed", gate: "medium" })).body;
    const list = await api(s, "GET", "/api/approvals?status=pending");
    expect(list.body.approvals.map((x: { id: string }) => x.id)).toContain(a.id);
    expect(list.body.approvals.every((x: { status: string }) => x.status === "pending")).toBe(true);
    expect((await api(s, "GET", "/api/approvals/00000000-0000-0000-0000-000000000000")).status).toBe(404);
    expect((await api(s, "GET", "/api/approvals/not-a-uuid")).status).toBe(404);
  });

  it("long-polls until the decision", async () => {
    const a = (await api(s, "POST", "/api/approvals", { title: "long poll", gate: "medium" })).body;
    const started = Date.now();
    const poll = api(s, "GET", `/api/approvals/${a.id}?wait=10`);
    setTimeout(() => void s.webchat!.operatorSays("adam", `approve ${a.code}`), 300);
    const r = await poll;
    expect(r.body.status).toBe("approved");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("reports health and metrics", async () => {
    const h = await api(s, "GET", "/api/health", undefined, null);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: "healthy",
      checks: { postgres: { status: "up" }, redis: { status: "up" }, webchat: { status: "up" } },
    });
    const m = await fetch(`${s.url}/metrics`).then((r) => r.text());
    expect(m).toMatch(/signoff_approvals_created_total\{gate="medium"\} \d+/);
    expect(m).toMatch(/signoff_pending_approvals \d+/);
  });
});

describe("web chat", () => {
  // fetch() will not let a test set Host, so this speaks plain node:http.
  const withHost = (path: string, host: string, method = "GET", body?: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(path, s.url);
      const req = httpRequest(
        {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname,
          method,
          headers: { host, ...(body ? { "content-type": "application/json" } : {}) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  it("answers only on a loopback Host (no DNS rebinding)", async () => {
    expect(await withHost("/chat/api/operators", "127.0.0.1:3000")).toBe(200);
    expect(await withHost("/chat/api/operators", "localhost")).toBe(200);
    expect(await withHost("/chat/api/operators", "evil.example.com")).toBe(403);
    expect(
      await withHost("/chat/api/adam/send", "evil.example.com:3000", "POST", JSON.stringify({ text: "pending" })),
    ).toBe(403);
    expect(await withHost("/api/health", "evil.example.com")).toBe(200); // the API itself is not the web chat
  });
});
