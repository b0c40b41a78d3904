/**
 * Queries in chat: each query's exact reply for seeded data (tasks in every
 * state, spend over 8 days in two currencies, fresh and stale heartbeats, a failing health
 * check, a dead letter), read by operators in UTC and in Pacific/Auckland, on a fixed clock.
 * Real PostgreSQL and Redis; the data goes in through the HTTP API like a source's would.
 */
import { createServer } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDuration } from "../../src/lib/time-format.js";
import { DATABASE_URL, api, cleanupTestInstance, eventually } from "../helpers/harness.js";
import { type OpsSignoff, ask, startOpsSignoff, testClock } from "./chatops-harness.js";

const T0 = new Date("2026-03-11T21:00:00Z"); // Wed 21:00 UTC = Thu 12 Mar 10:00 in Auckland (NZDT)
const at = (msBefore: number) => new Date(T0.getTime() - msBefore);
const MIN = 60_000;
const HOUR = 60 * MIN;

const clock = testClock(at(6 * HOUR));
let s: OpsSignoff;
let approval: { id: string; code: string; title: string; deadlineAt: string };

async function task(msBefore: number, body: Record<string, unknown>) {
  clock.set(at(msBefore));
  const res = await api(s, "POST", "/api/tasks", body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await closedPort();
  s = await startOpsSignoff({
    now: clock.now,
    file: {
      healthChecks: [
        { name: "litellm", url: `http://127.0.0.1:${port}/health`, everySeconds: 3600 },
        { name: "redis-main", tcp: "127.0.0.1:6379", everySeconds: 3600 },
      ],
    },
  });
  // The health checks run at once when first scheduled: both results carry the clock's 15:00.
  await eventually(async () => (await s.ops.monitor.listHealth()).length === 2, "first health-check results");

  await task(5 * HOUR, { id: "T-1", title: "Write docs", state: "backlog" });
  await task(3 * HOUR + 10 * MIN, { id: "T-2", title: "Fix login", state: "ready", agent: "forge" });
  await task(40 * MIN, { id: "T-3", title: "Tune cache", state: "ready", agent: "scout" });
  await task(5 * HOUR + 2 * MIN, { id: "T-4", title: "Build API", state: "in-progress", agent: "forge" });
  await task(30 * MIN, { id: "T-5", title: "Refactor auth", state: "in-progress", agent: "scout" });
  await task(HOUR, { id: "T-6", title: "Review PR 42", state: "review" });
  await task(3 * HOUR, { id: "T-7", title: "Deploy web", state: "in-progress", agent: "forge" });
  await task(2 * HOUR, { id: "T-7", title: "Deploy web", state: "done" }); // state_since moves; agent kept
  await task(4 * HOUR, {
    id: "T-8",
    title: "Migrate db",
    state: "failed",
    agent: "forge",
    error: "timeout talking to db",
  });

  clock.set(T0);
  const spend = async (amount: number, iso: string, extra: Record<string, unknown> = {}) =>
    expect((await api(s, "POST", "/api/spend", { amount, at: iso, ...extra })).status).toBe(201);
  await spend(3.25, at(2 * HOUR).toISOString(), { agent: "forge", model: "gpt-5" });
  await spend(1.5, at(HOUR).toISOString(), { agent: "scout", model: "claude-4" });
  await spend(0.25, at(30 * MIN).toISOString());
  await spend(12.5, "2026-03-10T12:00:00Z", { agent: "forge", model: "gpt-5" });
  await spend(7.5, "2026-03-10T12:00:00Z", { agent: "scout", model: "claude-4" });
  await spend(4, "2026-03-10T12:00:00Z", { agent: "forge", model: "gpt-5", currency: "eur" });
  for (let d = 4; d <= 9; d++) await spend(10, `2026-03-0${d}T12:00:00Z`, { agent: "forge", model: "gpt-5" });
  await spend(100, "2026-03-03T12:00:00Z", { agent: "forge", model: "gpt-5" }); // 8 days back: outside the average

  clock.set(at(10 * MIN));
  await api(s, "POST", "/api/heartbeats", { agent: "scout" });
  clock.set(at(MIN));
  await api(s, "POST", "/api/heartbeats", { agent: "forge", status: "ok" });
  await api(s, "POST", "/api/heartbeats", { agent: "builder", status: "error", detail: "disk full" });

  approval = (await api(s, "POST", "/api/approvals", { title: "Deploy api", gate: "medium" })).body;
  // A callback that was dead-lettered at 20:45 (its attempts are covered by the reliability tests).
  const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${s.schema}` });
  await client.connect();
  await client.query(
    `INSERT INTO deliveries (kind, subject_id, url, body, status, attempts, last_error, updated_at)
     VALUES ('callback', $1, 'http://127.0.0.1:9/cb', '{}', 'dead', 4, 'HTTP 500', $2)`,
    [approval.id, at(15 * MIN)],
  );
  await client.end();
  clock.set(T0);
}, 30_000);

afterAll(async () => {
  await s?.close();
  if (s) await cleanupTestInstance(s.schema, s.prefix);
});

describe("status", () => {
  it("bob (UTC): one screen of approvals, tasks, spend, agents, services, pause", async () => {
    expect((await ask(s, "bob", "status")).split("\n")).toEqual([
      "📊 Status · 21:00",
      "Approvals: 1 pending",
      "Tasks: 1 backlog · 2 ready · 2 in progress · 1 review · 1 done · 1 failed",
      "Spend today: $5.00",
      "Agents: 1 up, 2 down (builder, scout)",
      "Services: 1 up, 1 down (litellm)",
      "▶️ Autonomy on.",
    ]);
  });

  it("adam reads it in Auckland time, and /status@bot works", async () => {
    const reply = await ask(s, "adam", "/status@signoff_bot");
    expect(reply.split("\n")[0]).toBe("📊 Status · 10:00");
    expect(reply).toContain("Spend today: $5.00");
  });
});

describe("queue", () => {
  it("counts every state and lists the oldest ready and in-progress tasks", async () => {
    expect((await ask(s, "bob", "how's the queue?")).split("\n")).toEqual([
      "🗂 Queue",
      "1 backlog · 2 ready · 2 in progress · 1 review · 1 done · 1 failed",
      "Oldest ready:",
      "• T-2 Fix login (forge) · waiting 3h 10m",
      "• T-3 Tune cache (scout) · waiting 40m",
      "Oldest in progress:",
      "• T-4 Build API (forge) · 5h 2m ⚠️ stuck",
      "• T-5 Refactor auth (scout) · 30m",
    ]);
  });
});

describe("spend", () => {
  it("today: by agent and model, and the average of the 7 days before today", async () => {
    expect((await ask(s, "bob", "what did we spend today?")).split("\n")).toEqual([
      "💸 Spend today (Wed 11 Mar): $5.00",
      "By agent: forge $3.25 · scout $1.50 · (no agent) $0.25",
      "By model: gpt-5 $3.25 · claude-4 $1.50 · (no model) $0.25",
      "7-day average: $11.43 + €0.57 a day",
    ]);
  });

  it("yesterday, in two currencies, never converted", async () => {
    expect((await ask(s, "bob", "What did we spend yesterday?")).split("\n")).toEqual([
      "💸 Spend yesterday (Tue 10 Mar): $20.00 + €4.00",
      "By agent: forge $12.50 · scout $7.50 · forge €4.00",
      "By model: gpt-5 $12.50 · claude-4 $7.50 · gpt-5 €4.00",
      "7-day average: $11.43 + €0.57 a day",
    ]);
  });

  it("days are the reader's: in Auckland it is already Thursday", async () => {
    expect((await ask(s, "adam", "spend")).split("\n")[0]).toBe("💸 Spend today (Thu 12 Mar): $5.00");
  });
});

describe("failures", () => {
  it("lists failed tasks, dead letters, services and agents down", async () => {
    expect((await ask(s, "bob", "any failures?")).split("\n")).toEqual([
      "🚨 Failures",
      "Failed tasks:",
      "• T-8 Migrate db (forge): timeout talking to db · 17:00",
      "Dead letters:",
      `• callback ${approval.code} Deploy api: HTTP 500 · 20:45`,
      "Services down:",
      "• litellm since 15:00 (ECONNREFUSED)",
      "Agents down:",
      "• builder: reports error: disk full",
      "• scout: silent 10m",
    ]);
  });
});

describe("digest on demand", () => {
  it("covers the last 24 hours, section by section", async () => {
    const left = formatDuration(new Date(approval.deadlineAt).getTime() - T0.getTime());
    expect((await ask(s, "bob", "digest")).split("\n")).toEqual([
      "☀️ Digest · Wed 11 Mar (since Tue 10 Mar 21:00)",
      "✅ 1 task done",
      "❌ Failed:",
      "• T-8 Migrate db: timeout talking to db",
      "⏳ Stuck in progress:",
      "• T-4 Build API · 5h 2m",
      "💸 Spend yesterday: $20.00 + €4.00 (7-day average $11.43 + €0.57 a day)",
      "📭 Dead letters:",
      `• callback ${approval.code} Deploy api: HTTP 500`,
      "🤖 Agents down: builder (reports error: disk full), scout (silent 10m)",
      "🔌 Services down: litellm (since 15:00)",
      "🔐 Waiting for approval:",
      `• ${approval.code} Deploy api (${left} left)`,
    ]);
  });
});

describe("help and unknown text", () => {
  it("a viewer is told only the queries", async () => {
    expect((await ask(s, "vic", "help")).split("\n")).toEqual([
      "What you can say",
      "• status: the overview",
      "• queue: tasks by state, oldest first",
      '• spend (or "spend yesterday"): by agent and model, 7-day average',
      "• failures: failed tasks, dead letters, what is down",
      "• pending: approvals waiting",
      "• digest: the digest, now",
      "• help: this list",
    ]);
  });

  it("an owner is also told how to answer and steer", async () => {
    const help = await ask(s, "adam", "what can I say?");
    for (const line of [
      "• approve K7QF · reject K7QF reason · modify K7QF what to change",
      "• kill task <id>: stop it and tell its source",
      "• pause: auto and low requests need a person until resume",
      "• pair <code> as <role>: let someone who messaged the bot in",
    ]) {
      expect(help.split("\n")).toContain(line);
    }
  });

  it("gibberish gets the closest commands this operator may use, never silence", async () => {
    expect(await ask(s, "vic", "stts")).toMatch(/^I didn't understand that\. Try: status, .*help\.$/);
    // A misspelt command is only suggested, and only to those who may use it.
    expect(await ask(s, "adam", "kil taks T-1")).toBe("Did you mean kill task T-1? Nothing was done.");
    expect(await ask(s, "vic", "kil taks T-1")).not.toContain("kill");
    expect(await ask(s, "vic", "don't kill task T-1")).toBe("Not doing anything.");
  });
});

describe("health checks", () => {
  it("keep the last result and since when the service has been up or down", async () => {
    clock.set(new Date(T0.getTime() + HOUR));
    try {
      await s.ops.runHealthCheck("litellm");
      await s.ops.runHealthCheck("redis-main");
      const results = await s.ops.monitor.listHealth();
      expect(
        results.map((h) => ({
          name: h.name,
          ok: h.ok,
          since: h.since.toISOString(),
          checkedAt: h.checkedAt.toISOString(),
        })),
      ).toEqual([
        {
          name: "litellm",
          ok: false,
          since: at(6 * HOUR).toISOString(),
          checkedAt: new Date(T0.getTime() + HOUR).toISOString(),
        },
        {
          name: "redis-main",
          ok: true,
          since: at(6 * HOUR).toISOString(),
          checkedAt: new Date(T0.getTime() + HOUR).toISOString(),
        },
      ]);
      expect(results[1]!.detail).toMatch(/^connected in \d+ ms$/);
    } finally {
      clock.set(T0);
    }
  });
});
