/**
 * Two real signoff processes (`src/main.ts`) on one PostgreSQL schema and one Redis queue
 * prefix, as a deployment scaled out runs them: requests through either answer alike, what one
 * creates the other's chat decides, every objection window decides once, every callback is made
 * once, one digest and one health-check schedule run, and one process at a time long-polls
 * Telegram (a fake Bot API, calls tagged by process) — the other takes over after a `kill -9`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { startCallbackReceiver } from "../helpers/callback-receiver.js";
import { api, cleanupTestInstance, DATABASE_URL, eventually, uniqueName } from "../helpers/harness.js";
import { type SharedSignoff, startSharedSignoffs, writeConfigFile } from "../helpers/shared-signoffs.js";

const schema = uniqueName("two");
const prefix = uniqueName("q");
const OLGA = 1003; // a viewer on Telegram with a digest every minute
const LOWS = 200;

let fake: FakeBotApi;
let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;
let target: Server;
const healthHits: number[] = [];
let db: pg.Client;
let a: SharedSignoff;
let b: SharedSignoff;
let startedAt = 0;

beforeAll(async () => {
  fake = await startFakeBotApi();
  receiver = await startCallbackReceiver();
  target = createServer((_req, res) => {
    healthHits.push(Date.now());
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  const configFile = writeConfigFile({
    operators: [
      { name: "adam", roles: ["owner", "approver"], timezone: "UTC" },
      { name: "olga", roles: ["viewer"], timezone: "UTC", telegram: OLGA, webchat: false, digest: "* * * * *" },
    ],
    approvals: { callbackBackoffMs: 50, callbackAttempts: 4, callbackTimeoutMs: 2000 },
    // The digest of the minute the processes start in counts as missed: both try to send it.
    digests: { graceSeconds: 3600 },
    healthChecks: [
      { name: "web", url: `http://127.0.0.1:${(target.address() as AddressInfo).port}/up`, everySeconds: 1 },
    ],
  });
  const started = await startSharedSignoffs({
    names: ["a", "b"],
    schema,
    prefix,
    configFile,
    env: (name) => ({
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRootFor(name),
      WEBCHAT_ENABLED: "true",
    }),
  });
  [a, b] = [started[0]!, started[1]!];
  startedAt = Date.now();
  db = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await db.connect();
}, 40_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.end();
  await fake?.close();
  await receiver?.close();
  await new Promise((resolve) => target?.close(resolve));
  await cleanupTestInstance(schema, prefix);
}, 30_000);

const base = (i: number) => (i % 2 === 0 ? a : b);
const other = (s: SharedSignoff) => (s === a ? b : a);
const pollers = () => new Set(fake.requestsTo("getUpdates").map((r) => r.client));
const conflicts = () => fake.calls.filter((c) => c.method === "getUpdates" && c.status === 409);

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(text, params)).rows as T[];
}

describe("two processes on one database and one Redis", () => {
  it("both answer health; requests through either succeed, and each decides what the other created", async () => {
    expect((await api(a, "GET", "/api/health")).status).toBe(200);
    expect((await api(b, "GET", "/api/health")).status).toBe(200);
    const created = [];
    for (let i = 0; i < 4; i++) {
      const r = await api(base(i), "POST", "/api/approvals", {
        title: `deploy ${i}`,
        gate: "medium",
        callbackUrl: receiver.url,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      created.push({ id: r.body.id as string, code: r.body.code as string, via: base(i) });
    }
    for (const [i, c] of created.entries()) {
      // Typed in the other process's web chat: that process decides a request it never saw created.
      const decider = other(c.via);
      const said = await fetch(`${decider.url}/chat/api/adam/send`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: i % 2 === 0 ? `approve ${c.code}` : `reject ${c.code} not today` }),
      });
      expect(said.status).toBe(200);
    }
    for (const [i, c] of created.entries()) {
      const decided = await eventually(async () => {
        const r = await api(c.via, "GET", `/api/approvals/${c.id}`);
        return r.body.status !== "pending" && r.body;
      }, `${c.code} decided`);
      expect(decided).toMatchObject({ status: i % 2 === 0 ? "approved" : "rejected", decidedBy: "adam" });
      expect(decided.decisions).toHaveLength(1);
      expect(decided.decisions[0].channel).toBe("webchat");
    }
  });

  it(`${LOWS} low requests across both: every objection window decides once, every callback once`, async () => {
    const ids: string[] = [];
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, lane) => {
        for (let i = lane; i < LOWS; i += 20) {
          const r = await api(base(i), "POST", "/api/approvals", {
            title: `low ${i}`,
            gate: "low",
            objectionSeconds: 1 + (i % 2),
            callbackUrl: receiver.url,
          });
          statuses.push(r.status);
          if (r.status === 201) ids.push(r.body.id);
        }
      }),
    );
    expect(
      statuses.filter((s) => s !== 201),
      "creates that failed",
    ).toEqual([]);

    // Each window ends once: approved, or — when its notice reached no one in time (a loaded
    // machine: notices to one chat are shown one after another) — escalated to `medium`; those
    // are cancelled below, through either process.
    const settled = async () =>
      sql<{ id: string; status: string; decided_by: string | null; effective_gate: string }>(
        "SELECT id, status, decided_by, effective_gate FROM approvals WHERE gate = 'low'",
      );
    await eventually(
      async () => (await settled()).every((r) => r.status !== "pending" || r.effective_gate === "medium"),
      "every objection window to end",
      40_000,
      200,
    ).catch(async (error: Error) => {
      const left = (await settled()).filter((r) => r.status === "pending" && r.effective_gate === "low");
      throw new Error(`${error.message}; ${left.length} low requests still wait: ${JSON.stringify(left.slice(0, 3))}`);
    });
    const lows = await settled();
    expect(lows).toHaveLength(LOWS);
    const escalated = lows.filter((r) => r.status === "pending").map((r) => r.id);
    expect(
      lows.filter((r) => r.status !== "pending" && (r.status !== "approved" || r.decided_by !== "objection-window")),
      "a low request ended other than by its window",
    ).toEqual([]);
    for (const [i, id] of escalated.entries()) {
      const r = await api(base(i), "POST", `/api/approvals/${id}/cancel`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }

    const countsOf = async (action: string) =>
      new Map(
        (
          await sql<{ subject: string; n: number }>(
            "SELECT subject, count(*)::int AS n FROM audit_log WHERE action = $1 GROUP BY subject",
            [action],
          )
        ).map((r) => [r.subject, r.n]),
      );
    const decidedAudits = await countsOf("approval.decided");
    const cancelledAudits = await countsOf("approval.cancelled");
    const escalations = await countsOf("approval.escalated");
    expect(
      ids.filter((id) => (decidedAudits.get(id) ?? 0) + (cancelledAudits.get(id) ?? 0) !== 1),
      "approvals whose end is not audited exactly once",
    ).toEqual([]);
    // Each window took effect once: an approval, or an escalation — never both, never twice.
    expect(
      ids.filter((id) => (escalations.get(id) ?? 0) !== (escalated.includes(id) ? 1 : 0)),
      "approvals escalated more than once, or escalated and approved",
    ).toEqual([]);
    expect(
      (await sql("SELECT approval_id FROM decisions WHERE approval_id = ANY($1::uuid[])", [ids])).length,
      "an objection window recorded an operator's decision",
    ).toBe(0);

    // A GET through the process that did not create it sees the decision.
    for (let i = 0; i < LOWS; i += 25) {
      const r = await api(base(i + 1), "GET", `/api/approvals/${ids[i]}`);
      expect(r.body.status).toBe(escalated.includes(ids[i]!) ? "cancelled" : "approved");
    }

    const all = (await sql<{ id: string }>("SELECT id FROM approvals")).map((r) => r.id);
    const deliveriesOf = () => {
      const byApproval = new Map<string, string[]>();
      for (const r of receiver.successes()) {
        const id = JSON.parse(r.body).id as string;
        byApproval.set(id, [...(byApproval.get(id) ?? []), String(r.headers["x-signoff-delivery"])]);
      }
      return byApproval;
    };
    await eventually(() => all.every((id) => deliveriesOf().has(id)), "a callback for every approval", 15_000, 100);
    const byApproval = deliveriesOf();
    expect(
      [...byApproval].filter(([, deliveries]) => new Set(deliveries).size !== 1),
      "approvals called back under more than one delivery id",
    ).toEqual([]);
    const repeats = [...byApproval.values()].reduce((n, d) => n + d.length - 1, 0);
    process.stdout.write(
      `two processes: ${LOWS - escalated.length} of ${LOWS} lows approved by their window, ${escalated.length} escalated (notice late); ` +
        `${all.length} callbacks, ${repeats} repeats of a delivery id\n`,
    );
  }, 70_000);

  it("sends the digest due at start once, though both processes try", async () => {
    const digests = () => fake.sent(OLGA).filter((m) => m.text.includes("Digest ·"));
    await fake.waitFor(() => digests().length > 0, 5_000, "the missed digest");
    const sends = await sql<{ scheduled_at: Date; trigger: string }>(
      "SELECT scheduled_at, trigger FROM digest_sends WHERE operator = 'olga'",
    );
    // One message per slot: the one missed before start (both processes tried) and any that came due since.
    expect(digests()).toHaveLength(sends.length);
    expect(sends.filter((s) => s.trigger === "catch-up")).toHaveLength(1);
  });

  it("runs the health check on one schedule, not one per process", async () => {
    // Both processes upserted the same every-second scheduler: its runs count seconds, once each.
    const from = Math.max(startedAt + 2_000, Date.now());
    await new Promise((r) => setTimeout(r, 8_000));
    const runs = healthHits.filter((t) => t >= from && t < from + 8_000).length;
    process.stdout.write(`two processes: health check ran ${runs} times in 8 s (every 1 s)\n`);
    expect(runs, "the health check ran on two schedules").toBeLessThanOrEqual(10);
    expect(runs, "the health check stopped running").toBeGreaterThanOrEqual(5);
  }, 20_000);

  it("one process long-polls Telegram at a time; after kill -9 of it the other takes over", async () => {
    expect(pollers().size, "both processes polled getUpdates").toBe(1);
    expect(conflicts(), "two pollers fought over getUpdates").toHaveLength(0);
    const holder = [...pollers()][0] === "a" ? a : b;
    const survivor = other(holder);

    await holder.kill9();
    const killedAt = Date.now();
    await fake.waitFor(
      () => fake.requestsTo("getUpdates", survivor.name).length > 0,
      25_000,
      `${survivor.name} to take the polling lease`,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    process.stdout.write(
      `two processes: after kill -9 of the poller, the other polled after ${seconds.toFixed(1)} s\n`,
    );
    // The lease outlives the dead holder's last renewal by its 15 s ttl; the survivor retries every 3 s.
    expect(seconds).toBeLessThan(20);
    expect(conflicts(), "two pollers fought over getUpdates").toHaveLength(0);

    fake.userSendsText({ chatId: OLGA, text: "status" });
    await fake.waitFor(
      () => fake.sent(OLGA).some((m) => !m.text.includes("Digest ·")),
      5_000,
      "the survivor to answer on Telegram",
    );
  }, 35_000);
});
