/**
 * Standing approvals end to end on the web chat (real PostgreSQL + Redis): "always" replied to a
 * medium card with an action approves it and makes a rule; the next request from the same source
 * with the same action is approved at once by the rule (no card, `decidedBy: "rule:<id>"`,
 * audited); hard requests, other sources, actions and agents, a pause, a revoke and an expiry
 * each keep or bring back the card; `rules` lists them and the digest counts their uses.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { SOURCE_TOKEN, api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";
import { cardFor } from "../helpers/operator-decides.js";
import { sql } from "../helpers/sql.js";

const OTHER_TOKEN = "ci-token-for-standing-rules";

let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  s = await startTestSignoff({
    file: {
      sources: [
        { name: "forge", tokenSha256: createHash("sha256").update(SOURCE_TOKEN).digest("hex") },
        { name: "ci", tokenSha256: createHash("sha256").update(OTHER_TOKEN).digest("hex") },
      ],
    },
  });
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

type Request = {
  title?: string;
  gate?: string;
  action?: string;
  agent?: string;
  preview?: string;
  requestedBy?: string;
};

async function create(body: Request, token = SOURCE_TOKEN) {
  const started = performance.now();
  const res = await api(s, "POST", "/api/approvals", { title: "Deploy", gate: "medium", ...body }, token);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { ...res.body, ms: performance.now() - started };
}

/** The bot's reply to what `operator` said (message `sentId`). */
const replyTo = (operator: string, sentId: string) =>
  eventually(
    () => s.webchat!.history(operator).find((m) => m.from === "bot" && m.replyTo === sentId),
    `reply to ${sentId} in ${operator}'s chat`,
  );

async function say(operator: string, text: string, replyToId?: string): Promise<string> {
  const sent = await s.webchat!.operatorSays(operator, text, replyToId);
  return (await replyTo(operator, sent.id)).text;
}

/** `operator` replies "always" to the card of a new request; returns the request and the rule id. */
async function alwaysOn(body: Request, operator = "adam") {
  const a = await create(body);
  const card = await cardFor(s, operator, a.code);
  const reply = await say(operator, "always", card.id);
  const rule = /Rule (R\d+)/.exec(reply)?.[1];
  expect(rule, reply).toBeDefined();
  return { a, rule: rule!, reply };
}

const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;

/** Whether any of the bot's messages in any test chat mentions `code` (a card, a notice). */
const anyMessageWith = (code: string) =>
  ["adam", "eve", "bob", "vic"].some((op) =>
    s.webchat!.history(op).some((m) => m.from === "bot" && m.text.includes(code)),
  );

describe("standing approvals", () => {
  it('"always" on the card approves it and makes a rule; the next same request is approved by it, with no card', async () => {
    const { a, rule, reply } = await alwaysOn({ action: "deploy:staging", agent: "builder" });
    expect(reply).toContain("deploy:staging");
    expect(await record(a.id)).toMatchObject({ status: "approved", decidedBy: "adam" });
    expect((await record(a.id)).ruleId).toBeUndefined();
    const [row] = await sql<{ source: string; action: string; agent: string; created_by: string; expires_at: Date }>(
      s.schema,
      "SELECT * FROM standing_rules WHERE id = $1",
      [Number(rule.slice(1))],
    );
    expect(row).toMatchObject({ source: "forge", action: "deploy:staging", agent: "builder", created_by: "adam" });
    // The default expiry: 30 days.
    expect(Math.round((row!.expires_at.getTime() - Date.now()) / 86_400_000)).toBe(30);

    const next = await create({ title: "Deploy again", action: "deploy:staging", agent: "builder" });
    expect(next).toMatchObject({ status: "approved", decidedBy: `rule:${rule}`, ruleId: rule, deadlineAt: null });
    expect(await record(next.id)).toMatchObject({ status: "approved", decidedBy: `rule:${rule}`, ruleId: rule });
    console.info(`create approved by a rule answered in ${next.ms.toFixed(1)} ms`);
    expect(next.ms).toBeLessThan(1_000);

    const used = await sql<{ actor: string; data: string }>(
      s.schema,
      "SELECT actor, data FROM audit_log WHERE action = 'rule.used' AND subject = $1",
      [`rule:${rule}`],
    );
    expect(used.map((u) => JSON.parse(u.data).approvalId)).toEqual([next.id]);
    const created = await sql(s.schema, "SELECT 1 FROM audit_log WHERE action = 'rule.created' AND subject = $1", [
      `rule:${rule}`,
    ]);
    expect(created).toHaveLength(1);
    const [counted] = await sql<{ use_count: number; last_used_at: Date | null }>(
      s.schema,
      "SELECT use_count, last_used_at FROM standing_rules WHERE id = $1",
      [Number(rule.slice(1))],
    );
    expect(counted).toMatchObject({ use_count: 1 });
    expect(counted!.last_used_at).not.toBeNull();
    // No card for it anywhere (the first request's cards came within moments, so this one had time to).
    await eventually(() => anyMessageWith(a.code), "the first request's cards");
    await new Promise((r) => setTimeout(r, 300));
    expect(anyMessageWith(next.code)).toBe(false);
  });

  it("a hard request, another source, another action or another agent still gets a card", async () => {
    const { rule } = await alwaysOn({ action: "db:migrate", agent: "builder" });
    const hard = await create({ gate: "hard", preview: "ALTER TABLE", action: "db:migrate", agent: "builder" });
    const otherSource = await create({ action: "db:migrate", agent: "builder" }, OTHER_TOKEN);
    const otherAction = await create({ action: "db:seed", agent: "builder" });
    const otherAgent = await create({ action: "db:migrate", agent: "intruder" });
    const noAgent = await create({ action: "db:migrate" });
    for (const a of [hard, otherSource, otherAction, otherAgent, noAgent]) {
      expect(a.status).toBe("pending");
      await cardFor(s, "adam", a.code);
    }
    // The rule still works for what it covers.
    expect(await create({ action: "db:migrate", agent: "builder" })).toMatchObject({ decidedBy: `rule:${rule}` });
  });

  it('"always" on a hard card, or on one without an action, is refused and decides nothing', async () => {
    const hard = await create({ gate: "hard", preview: "rm -rf build", action: "build:clean" });
    const reply = await say("adam", "always", (await cardFor(s, "adam", hard.code)).id);
    expect(reply).toMatch(/Rules can't approve hard requests/);
    const plain = await create({ title: "No action here" });
    const reply2 = await say("adam", `approve ${plain.code} always`);
    expect(reply2).toMatch(/has no action, so no rule can cover it/);
    expect((await record(hard.id)).status).toBe("pending");
    expect((await record(plain.id)).status).toBe("pending");
    expect(await sql(s.schema, "SELECT 1 FROM standing_rules WHERE action = 'build:clean'")).toHaveLength(0);
  });

  it("a rule does not approve a request made on its creator's behalf", async () => {
    await alwaysOn({ action: "tool:Bash", agent: "claude" });
    const own = await create({ action: "tool:Bash", agent: "claude", requestedBy: "adam" });
    expect(own.status).toBe("pending");
    const others = await create({ action: "tool:Bash", agent: "claude", requestedBy: "eve" });
    expect(others.decidedBy).toMatch(/^rule:R\d+$/);
  });

  it("revoke rule ends it (audited): the next request gets a card; a viewer may not revoke", async () => {
    const { rule } = await alwaysOn({ action: "cache:flush" });
    expect(await say("vic", `revoke rule ${rule}`)).toMatch(/You can't revoke rules/);
    expect((await create({ action: "cache:flush" })).decidedBy).toBe(`rule:${rule}`);
    expect(await say("eve", `revoke rule ${rule}`)).toContain(`Rule ${rule} revoked`);
    expect(await say("adam", `revoke rule ${rule}`)).toMatch(/already ended \(revoked by eve\)/);
    const after = await create({ action: "cache:flush" });
    expect(after.status).toBe("pending");
    await cardFor(s, "adam", after.code);
    const audit = await sql<{ actor: string }>(
      s.schema,
      "SELECT actor FROM audit_log WHERE action = 'rule.revoked' AND subject = $1",
      [`rule:${rule}`],
    );
    expect(audit.map((a) => a.actor)).toEqual(["eve"]);
    expect(await say("adam", "revoke rule R9999")).toMatch(/There is no rule R9999/);
  });

  it("a pause suspends every rule until resume", async () => {
    const { rule } = await alwaysOn({ action: "queue:drain" });
    expect(await say("adam", "pause")).toBeTruthy();
    try {
      const paused = await create({ action: "queue:drain" });
      expect(paused.status).toBe("pending");
      await cardFor(s, "adam", paused.code);
      expect(await say("bob", "rules")).toMatch(/Paused: rules approve nothing until resume/);
    } finally {
      await say("adam", "resume");
    }
    expect((await create({ action: "queue:drain" })).decidedBy).toBe(`rule:${rule}`);
  });

  it("an expired rule approves nothing", async () => {
    const { rule } = await alwaysOn({ action: "logs:rotate" });
    await sql(
      s.schema,
      "UPDATE standing_rules SET created_at = now() - interval '2 days', expires_at = now() - interval '1 minute' WHERE id = $1",
      [Number(rule.slice(1))],
    );
    const after = await create({ action: "logs:rotate" });
    expect(after.status).toBe("pending");
    await cardFor(s, "adam", after.code);
    expect(await say("adam", "rules")).not.toContain(`${rule} `);
  });

  it("`rules` lists the live rules; the digest lists what each approved", async () => {
    const { rule } = await alwaysOn({ action: "report:nightly", agent: "reporter" });
    const used = [
      await create({ title: "Nightly 1", action: "report:nightly", agent: "reporter" }),
      await create({ title: "Nightly 2", action: "report:nightly", agent: "reporter" }),
    ];
    const list = await say("vic", "rules");
    expect(list).toMatch(new RegExp(`${rule} forge · report:nightly · reporter · by adam · until .* last used .*, 2×`));
    const digest = await say("adam", "digest");
    expect(digest).toContain("Approved by rules");
    const line = digest.split("\n").find((l) => l.includes(`${rule} forge`));
    expect(line, digest).toBeDefined();
    expect(line).toContain("report:nightly");
    expect(line).toContain("2×");
    for (const a of used) expect(line).toContain(a.code);
  });
});
