/**
 * Commands in chat and what sources report: role checks (a viewer
 * cannot kill, pause or approve; an owner can; every attempt audited), delivery to the task's
 * source by signed webhook and by pull with acknowledgements, pause flipping the persisted
 * switch the approval service reads, API validation, notices, and the once-a-day spend alert.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedBySignoff, startCallbackReceiver } from "../helpers/callback-receiver.js";
import { SOURCE_TOKEN, api, cleanupTestInstance, eventually } from "../helpers/harness.js";
import { REPORT_ROUTES } from "../helpers/source-http.js";
import { type OpsSignoff, ask, startOpsSignoff, testClock } from "./chatops-harness.js";

const sha = (token: string) => createHash("sha256").update(token).digest("hex");
const PULLER = "puller-token-for-tests";
const FLAKY = "flaky-token-for-tests";

let s: OpsSignoff;
let forgeHooks: Awaited<ReturnType<typeof startCallbackReceiver>>;
let flakyHooks: Awaited<ReturnType<typeof startCallbackReceiver>>;
const clock = testClock(new Date());

beforeAll(async () => {
  forgeHooks = await startCallbackReceiver();
  flakyHooks = await startCallbackReceiver(() => 500);
  s = await startOpsSignoff({
    now: clock.now,
    file: {
      sources: [
        { name: "forge", tokenSha256: sha(SOURCE_TOKEN), commandUrl: forgeHooks.url },
        { name: "puller", tokenSha256: sha(PULLER) },
        { name: "flaky", tokenSha256: sha(FLAKY), commandUrl: flakyHooks.url },
      ],
      commandRoles: { kill: ["owner"] }, // configurable: approvers may retry but not kill here
      spend: { currency: "USD", dailyAlert: 50 },
    },
  });
});

afterAll(async () => {
  await s?.close();
  if (s) await cleanupTestInstance(s.schema, s.prefix);
  await forgeHooks?.close();
  await flakyHooks?.close();
});

const auditOf = async (subject: string) => {
  await s.audit.seal();
  return (await s.audit.listBySubject(subject)).map((e) => ({ actor: e.actor, action: e.action }));
};

describe("source API validation", () => {
  it("rejects bad bodies with field paths and writes nothing", async () => {
    const res = await api(s, "POST", "/api/tasks", { id: "bad id!", title: "", state: "sleeping", extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_body");
    expect(res.body.problems.map((p: { path: string }) => p.path).sort()).toEqual(["extra", "id", "state", "title"]);
    expect(await s.ops.tasks.get("bad id!")).toBeNull();

    const spend = await api(s, "POST", "/api/spend", { amount: -1, currency: "dollars", at: "yesterday" });
    expect(spend.status).toBe(400);
    expect(spend.body.problems.map((p: { path: string }) => p.path).sort()).toEqual(["amount", "at", "currency"]);
    expect(
      (await api(s, "POST", "/api/spend", { amount: 1, at: new Date(Date.now() + 3 * 86_400_000).toISOString() })).body
        .problems,
    ).toEqual([{ path: "at", message: "more than a day in the future" }]);
    expect((await s.ops.spend.totals(new Date(0), new Date(Date.now() + 10 * 86_400_000))).length).toBe(0);

    expect((await api(s, "POST", "/api/heartbeats", {})).body.problems).toEqual([
      { path: "agent", message: expect.any(String) },
    ]);
    expect((await api(s, "POST", "/api/notify", { text: "hi", severity: "meh" })).body.problems[0].path).toBe(
      "severity",
    );
    expect((await api(s, "GET", "/api/commands?after=abc")).status).toBe(400);
    expect((await api(s, "POST", "/api/commands/ack", { ids: [] })).status).toBe(400);
  });

  it("needs a token, and a task id belongs to the source that created it", async () => {
    for (const [method, path] of REPORT_ROUTES) {
      expect((await api(s, method, path, method === "POST" ? {} : undefined, null)).status, path).toBe(401);
    }
    expect((await api(s, "POST", "/api/tasks", { id: "OWN-1", title: "mine", state: "ready" })).status).toBe(201);
    expect((await api(s, "POST", "/api/tasks", { id: "OWN-1", title: "mine", state: "done" })).status).toBe(200);
    const stolen = await api(s, "POST", "/api/tasks", { id: "OWN-1", title: "yours now", state: "failed" }, PULLER);
    expect(stolen.status).toBe(409);
    expect((await s.ops.tasks.get("OWN-1"))!.title).toBe("mine");
  });
});

describe("roles", () => {
  it("a viewer cannot kill, pause or approve; each attempt is audited and changes nothing", async () => {
    await api(s, "POST", "/api/tasks", { id: "F-1", title: "Crawl site", state: "in-progress" });
    expect(await ask(s, "vic", "kill task F-1")).toBe("You can't kill: it needs one of these roles: owner.");
    expect(await ask(s, "vic", "pause")).toBe("You can't pause: it needs one of these roles: owner, approver.");
    const approval = (await api(s, "POST", "/api/approvals", { title: "viewer approves?", gate: "medium" })).body;
    expect(await ask(s, "vic", `approve ${approval.code}`)).toContain(`You can't answer ${approval.code}`);

    expect((await s.ops.tasks.get("F-1"))!.state).toBe("in-progress");
    expect((await s.settings.pauseState()).paused).toBe(false);
    expect((await api(s, "GET", `/api/approvals/${approval.id}`)).body.status).toBe("pending");
    expect(await auditOf("task:F-1")).toEqual([{ actor: "vic", action: "command.refused" }]);
    expect(await auditOf("autonomy")).toEqual([{ actor: "vic", action: "command.refused" }]);
    expect(await auditOf(approval.id)).toContainEqual({ actor: "vic", action: "approval.answer_refused" });
    await api(s, "POST", `/api/approvals/${approval.id}/cancel`, {});
  });

  it("an owner kills: the task changes, the source gets a signed webhook, the kill is audited", async () => {
    await api(s, "POST", "/api/tasks", { id: "F-2", title: "Index docs", state: "in-progress", agent: "forge" });
    expect(await ask(s, "bob", "kill task F-2")).toBe("You can't kill: it needs one of these roles: owner.");
    expect(await ask(s, "adam", "Kill task f-2!")).toBe(
      "🛑 Killed F-2 Index docs (now failed). forge is told by webhook.",
    );
    const task = (await s.ops.tasks.get("F-2"))!;
    expect(task).toMatchObject({ state: "failed", error: "killed by adam" });

    const hook = await eventually(
      () => forgeHooks.successes().find((r) => JSON.parse(r.body).taskId === "F-2"),
      "kill webhook",
    );
    const body = JSON.parse(hook.body);
    expect(body).toMatchObject({
      command: "kill",
      taskId: "F-2",
      source: "forge",
      requestedBy: "adam",
      task: { id: "F-2", state: "failed" },
    });
    expect(signedBySignoff(hook)).toBe(true);
    expect(await auditOf("task:F-2")).toEqual([
      { actor: "bob", action: "command.refused" },
      { actor: "adam", action: "task.kill" },
    ]);
    // Delivered by webhook, so the pull does not offer it again.
    await eventually(
      async () => (await s.deliveries.listBySubject(body.id))[0]?.status === "delivered",
      "delivery marked delivered",
    );
    expect((await api(s, "GET", "/api/commands")).body.commands).toEqual([]);
  });

  it("an approver may retry; a command on the wrong state or an unknown task changes nothing", async () => {
    expect(await ask(s, "bob", "retry task F-2")).toBe(
      "🔁 Retrying F-2 Index docs (now ready). forge is told by webhook.",
    );
    expect(await ask(s, "adam", "retry task F-2")).toBe("F-2 is ready: there is nothing to retry.");
    expect(await ask(s, "adam", "kill task NOPE-9")).toBe('I don\'t know a task NOPE-9. Say "queue" to see tasks.');
    expect(await ask(s, "adam", "kill")).toBe('Which task? Say "kill task <id>".');
    expect((await s.ops.tasks.get("F-2"))!.state).toBe("ready");
  });
});

describe("commands by pull", () => {
  it("a source without a webhook pulls each command until it acknowledges it", async () => {
    await api(s, "POST", "/api/tasks", { id: "P-1", title: "Nightly report", state: "ready", priority: 3 }, PULLER);
    await api(s, "POST", "/api/tasks", { id: "P-2", title: "Backfill", state: "failed", error: "oom" }, PULLER);
    expect(await ask(s, "adam", "prioritize task p-1")).toBe(
      "⏫ Prioritised P-1 Nightly report (now ready, priority 4). puller is told when it next pulls its commands.",
    );

    const first = await api(s, "GET", "/api/commands", undefined, PULLER);
    expect(first.body.commands).toHaveLength(1);
    expect(first.body.commands[0]).toMatchObject({ command: "prioritise", taskId: "P-1", task: { priority: 4 } });
    expect((await api(s, "GET", "/api/commands", undefined, PULLER)).body.commands).toHaveLength(1); // not yet acknowledged
    expect((await api(s, "GET", "/api/commands")).body.commands).toEqual([]); // forge sees only its own

    expect(await ask(s, "eve", "retry task P-2")).toContain("puller is told when it next pulls its commands");
    const both = await api(s, "GET", "/api/commands", undefined, PULLER);
    expect(both.body.commands.map((c: { command: string }) => c.command)).toEqual(["prioritise", "retry"]);
    expect(both.body.cursor).toBe(both.body.commands[1].id);
    const after = await api(s, "GET", `/api/commands?after=${first.body.cursor}`, undefined, PULLER);
    expect(after.body.commands.map((c: { taskId: string }) => c.taskId)).toEqual(["P-2"]);

    expect(
      (await api(s, "POST", "/api/commands/ack", { ids: [first.body.cursor] }, SOURCE_TOKEN)).body.acknowledged,
    ).toBe(0); // not forge's
    expect(
      (await api(s, "POST", "/api/commands/ack", { ids: both.body.commands.map((c: { id: string }) => c.id) }, PULLER))
        .body.acknowledged,
    ).toBe(2);
    expect((await api(s, "GET", "/api/commands", undefined, PULLER)).body.commands).toEqual([]);
  });

  it("a webhook that keeps failing is dead-lettered, listed under failures, and still pullable", async () => {
    await api(s, "POST", "/api/tasks", { id: "FL-1", title: "Flaky job", state: "ready" }, FLAKY);
    await ask(s, "adam", "kill task FL-1");
    await eventually(
      async () => (await s.ops.monitor.listDeadLetters(new Date(0), 10)).items.some((d) => d.label === "kill FL-1"),
      "dead command delivery",
      15_000,
    );
    expect(flakyHooks.received.length).toBe(4); // callbackAttempts in the test config
    expect(await ask(s, "adam", "failures")).toMatch(/• command kill FL-1: HTTP 500 · \d\d:\d\d/);
    expect(
      (await api(s, "GET", "/api/commands", undefined, FLAKY)).body.commands.map((c: { taskId: string }) => c.taskId),
    ).toEqual(["FL-1"]);
  });
});

describe("pause and resume", () => {
  it("flip the persisted pause the approval service reads, tell the others, and are audited", async () => {
    expect(await ask(s, "adam", "pause")).toBe(
      '⏸ Paused. Auto and low requests now need a person; say "resume" to end it.',
    );
    expect((await s.settings.pauseState()).paused).toBe(true);
    expect(await s.settings.isPaused()).toBe(true);
    await eventually(
      () => s.webchat!.history("vic").find((m) => m.text.startsWith("⏸ adam paused autonomy at")),
      "pause notice to vic",
    );
    const low = (await api(s, "POST", "/api/approvals", { title: "restart cache", gate: "low", objectionSeconds: 30 }))
      .body;
    expect(low.effectiveGate).toBe("medium");
    expect(await ask(s, "bob", "/pause")).toMatch(/^⏸ Already paused by adam since \d\d:\d\d\.$/);

    expect(await ask(s, "eve", "resume")).toBe("▶️ Resumed. Auto and low requests proceed on their own again.");
    const after = (
      await api(s, "POST", "/api/approvals", { title: "restart cache again", gate: "low", objectionSeconds: 30 })
    ).body;
    expect(after.effectiveGate).toBe("low");
    expect(await auditOf("autonomy")).toEqual([
      { actor: "vic", action: "command.refused" },
      { actor: "adam", action: "autonomy.paused" },
      { actor: "eve", action: "autonomy.resumed" },
    ]);
    for (const a of [low, after]) await api(s, "POST", `/api/approvals/${a.id}/cancel`, {});
  });
});

describe("notices and the spend alert", () => {
  it("POST /api/notify reaches every operator", async () => {
    const res = await api(s, "POST", "/api/notify", { text: "Deploy finished", severity: "warning" });
    expect(res.status).toBe(202);
    expect(res.body.queued).toBe(4);
    for (const chat of ["adam", "eve", "bob", "vic"]) {
      await eventually(
        () => s.webchat!.history(chat).find((m) => m.text === "⚠️ forge: Deploy finished"),
        `notice in ${chat}'s chat`,
      );
    }
  });

  it("crossing the daily threshold tells owners once a day", async () => {
    const alerts = () => s.webchat!.history("adam").filter((m) => m.text.startsWith("💸 Spend alert"));
    expect((await api(s, "POST", "/api/spend", { amount: 30 })).body.alerted).toBe(false);
    expect((await api(s, "POST", "/api/spend", { amount: 25, agent: "forge" })).body.alerted).toBe(true);
    const alert = await eventually(() => alerts()[0], "spend alert");
    expect(alert.text).toMatch(
      /^💸 Spend alert: \$55\.00 spent today \(\w{3} \d+ \w{3}\), over the daily threshold of \$50\.00\.$/,
    );
    expect((await api(s, "POST", "/api/spend", { amount: 10 })).body.alerted).toBe(false);
    clock.advance(86_400_000);
    expect((await api(s, "POST", "/api/spend", { amount: 60 })).body.alerted).toBe(true);
    await eventually(() => alerts().length === 2, "the next day's alert");
    await new Promise((r) => setTimeout(r, 200));
    expect(alerts()).toHaveLength(2);
    expect(s.webchat!.history("eve").some((m) => m.text.startsWith("💸 Spend alert"))).toBe(false); // owners only
  });
});
