/**
 * Delegation, unpairing, paired operators' digests, health notices and the circuit breaker, end
 * to end: a real signoff (PostgreSQL + Redis) with a real grammY bot talking to the fake Bot API.
 */
import { createServer, type Server } from "node:net";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { createPresenceStore } from "../../src/store/presence-store.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { startTelegramSignoff } from "../helpers/telegram-signoff.js";
import { REDIS_URL, api, cleanupTestInstance, eventually } from "../helpers/harness.js";

const ADAM = 1001; // owner
const EVE = 1002; // approver, the only one holding "release"
const BOB = 1003; // approver
const STRANGER = 4343;

let fake: FakeBotApi;
let s: Signoff & { schema: string; prefix: string };
let healthPort: number;
let healthServer: Server | null = null;
let redis: Redis;
let outbox: Queue;

const listen = (port = 0) =>
  new Promise<Server>((resolve) => {
    const server = createServer((socket) => socket.end());
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

beforeAll(async () => {
  fake = await startFakeBotApi();
  healthServer = await listen();
  healthPort = (healthServer.address() as { port: number }).port;
  s = await startTelegramSignoff(fake, {
    file: {
      operators: [
        { name: "adam", roles: ["owner", "approver"], timezone: "Pacific/Auckland", telegram: String(ADAM) },
        { name: "eve", roles: ["approver", "release"], timezone: "Europe/Berlin", telegram: String(EVE) },
        { name: "bob", roles: ["approver"], timezone: "UTC", telegram: String(BOB) },
      ],
      healthChecks: [{ name: "db-proxy", tcp: `127.0.0.1:${healthPort}`, everySeconds: 3600 }],
      breaker: { rejections: 3, windowSeconds: 600 },
    },
  });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  outbox = new Queue("outbox", { connection: redis, prefix: s.prefix });
});
afterAll(async () => {
  await outbox?.close();
  redis?.disconnect();
  await s?.close();
  await fake?.close();
  await new Promise((r) => (healthServer ? healthServer.close(r) : r(null)));
  await cleanupTestInstance(s.schema, s.prefix);
});

const say = (chat: number, text: string) => fake.userSendsText({ chatId: chat, text });
const botSaid = (chat: number, words: string, after = 0) =>
  eventually(
    () => fake.sent(chat).find((m) => m.messageId > after && m.text.includes(words)),
    `"${words}" in chat ${chat}`,
    15_000,
  );
const lastId = (chat: number) => Math.max(0, ...fake.messages(chat).map((m) => m.messageId));
const cardOf = (chat: number, code: string) => fake.sent(chat).find((m) => m.text.includes(code));
const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;
async function releaseRequest(title: string) {
  const created = await api(s, "POST", "/api/approvals", {
    title,
    gate: "medium",
    approvers: { roles: ["release"] },
  });
  expect(created.status).toBe(201);
  return created.body as { id: string; code: string };
}
/** Whether the outbox has nothing left to send (so "no card" means none will come). */
const settled = () =>
  eventually(
    async () => {
      const counts = await outbox.getJobCounts("waiting", "active", "delayed", "prioritized");
      return Object.values(counts).every((n) => n === 0);
    },
    "outbox idle",
    15_000,
  );

describe("delegation", () => {
  it("away with a delegate: the card goes to the delegate, who may answer with the away operator's roles; status shows it", async () => {
    const mark = lastId(EVE);
    say(EVE, "away until tomorrow 9:00 delegate to bob");
    const confirm = await botSaid(EVE, "Away until", mark);
    expect(confirm.text).toContain("Your cards go to bob");

    const r = await releaseRequest("ship 2.4 to production");
    const card = await eventually(() => cardOf(BOB, r.code), "card at the delegate", 15_000);
    expect(card.replyMarkup?.inline_keyboard.flat().length).toBeGreaterThan(0);
    await settled();
    expect(cardOf(EVE, r.code), "no card for the operator away").toBeUndefined();

    say(BOB, `approve ${r.code}`);
    await eventually(async () => (await record(r.id)).status === "approved", "approved by the delegate", 15_000);
    expect((await record(r.id)).decidedBy).toBe("bob");

    const before = lastId(ADAM);
    say(ADAM, "status");
    const status = await botSaid(ADAM, "Status", before);
    // 09:00 tomorrow in Berlin, shown in adam's Auckland time.
    expect(status.text).toMatch(/eve away until (\w{3} \d{1,2} \w{3} )?\d{2}:\d{2}, delegate bob/);

    const audit = await s.db.pool.query(
      `SELECT actor, data FROM ${s.schema}.audit_log WHERE action = 'operator.away' ORDER BY id`,
    );
    expect(audit.rows.map((row) => row.actor)).toEqual(["eve"]);
  });

  it("the delegate is not eligible once the operator is back; back ends it and cards come to them again", async () => {
    const mark = lastId(EVE);
    say(EVE, "back");
    await botSaid(EVE, "Welcome back", mark);
    const r = await releaseRequest("ship 2.5 to production");
    await eventually(() => cardOf(EVE, r.code), "card back at eve", 15_000);
    await settled();
    expect(cardOf(BOB, r.code)).toBeUndefined();
    const before = lastId(BOB);
    say(BOB, `approve ${r.code}`); // bob holds no "release" role of his own
    await botSaid(BOB, `You can't answer ${r.code}`, before);
    expect((await record(r.id)).status).toBe("pending");
    say(EVE, `approve ${r.code}`);
    await eventually(async () => (await record(r.id)).status === "approved", "approved by eve", 15_000);
    const back = await s.db.pool.query(
      `SELECT count(*)::int AS n FROM ${s.schema}.audit_log WHERE action = 'operator.back'`,
    );
    expect(back.rows[0].n).toBe(1);
  });

  it("an absence ends by itself at its date (no timer): the next card goes to the operator again", async () => {
    const presence = createPresenceStore(s.db);
    const now = new Date();
    await presence.setAway(
      { operator: "eve", until: new Date(now.getTime() + 2500), delegate: "bob", setBy: "eve", setAt: now },
      [],
    );
    await new Promise((r) => setTimeout(r, 1100)); // set "in another process": seen within a second
    const first = await releaseRequest("during the short absence");
    await eventually(() => cardOf(BOB, first.code), "card at the delegate while away", 15_000);
    await new Promise((r) => setTimeout(r, 2600)); // past the date and past any cached read
    const after = await releaseRequest("after the absence ended");
    await eventually(() => cardOf(EVE, after.code), "card at eve after the date", 15_000);
    await settled();
    expect(cardOf(BOB, after.code)).toBeUndefined();
    const before = lastId(ADAM);
    say(ADAM, "status");
    expect((await botSaid(ADAM, "Status", before)).text).not.toContain("away until");
    for (const r of [first, after]) await api(s, "POST", `/api/approvals/${r.id}/cancel`, {});
  });

  it("away without a delegate from the only holder of a role: the request still reaches them", async () => {
    const mark = lastId(EVE);
    say(EVE, "away until friday");
    expect((await botSaid(EVE, "Away until", mark)).text).toContain("nobody else can answer");
    const r = await releaseRequest("only eve can release");
    await eventually(() => cardOf(EVE, r.code), "card at eve though away", 15_000);
    await api(s, "POST", `/api/approvals/${r.id}/cancel`, {});
    say(EVE, "back");
    await botSaid(EVE, "Welcome back", mark);
  });

  it("a date it cannot read gets examples, and changes nothing", async () => {
    const mark = lastId(BOB);
    say(BOB, "away until the heat death of the universe");
    const reply = await botSaid(BOB, "can't read", mark);
    expect(reply.text).toContain('"tomorrow 9:00"');
    const rows = await s.db.pool.query(
      `SELECT count(*)::int AS n FROM ${s.schema}.operator_presence WHERE operator = 'bob'`,
    );
    expect(rows.rows[0].n).toBe(0);
  });
});

describe("pairing leftovers", () => {
  it("a paired operator turns their digest on and off; a configured one is told it lives in the config; unpair removes them", async () => {
    fake.userSendsText({ chatId: STRANGER, fromId: STRANGER, text: "hello?" });
    const codeMsg = await botSaid(STRANGER, "code");
    const code = /\b([2-9A-HJ-NP-Z]{6})\b/.exec(codeMsg.text)![1]!;
    let mark = lastId(ADAM);
    say(ADAM, `pair ${code} as viewer named carol`);
    await botSaid(ADAM, "Paired carol", mark);

    mark = lastId(STRANGER);
    fake.userSendsText({ chatId: STRANGER, fromId: STRANGER, text: "digest on" });
    await botSaid(STRANGER, "Digest on", mark);
    const schedulers = async () => (await s.ops.queue.queue.getJobSchedulers()).map((j) => j.key);
    expect(await schedulers()).toContain("digest:carol");
    const stored = await s.db.pool.query(`SELECT digest FROM ${s.schema}.paired_operators WHERE name = 'carol'`);
    expect(stored.rows[0].digest).toBe("0 8 * * *");

    mark = lastId(STRANGER);
    fake.userSendsText({ chatId: STRANGER, fromId: STRANGER, text: "digest off" });
    await botSaid(STRANGER, "Digest off", mark);
    expect(await schedulers()).not.toContain("digest:carol");

    mark = lastId(EVE);
    say(EVE, "digest on");
    await botSaid(EVE, "signoff.yaml", mark);

    mark = lastId(ADAM);
    say(ADAM, "unpair eve");
    await botSaid(ADAM, "eve is configured in signoff.yaml", mark);
    mark = lastId(ADAM);
    say(ADAM, "unpair carol");
    await botSaid(ADAM, "Unpaired carol", mark);
    expect(s.directory.byName("carol")).toBeUndefined();
    const left = await s.db.pool.query(`SELECT count(*)::int AS n FROM ${s.schema}.paired_operators`);
    expect(left.rows[0].n).toBe(0);
    const audit = await s.db.pool.query(`SELECT actor FROM ${s.schema}.audit_log WHERE action = 'operator.unpaired'`);
    expect(audit.rows).toEqual([{ actor: "adam" }]);

    mark = lastId(BOB);
    say(BOB, "unpair adam");
    await botSaid(BOB, "can't pair", mark); // only the roles allowed to pair may unpair
  });
});

describe("health notices", () => {
  it("owners hear once when a check goes down and once when it is back, not at every failed probe", async () => {
    const health = (words: string) =>
      fake.sent(ADAM).filter((m) => m.text.includes("db-proxy") && m.text.includes(words));
    await s.ops.runHealthCheck("db-proxy"); // first result up: nothing to say
    await new Promise<void>((r) => healthServer!.close(() => r()));
    healthServer = null;
    for (let i = 0; i < 3; i++) await s.ops.runHealthCheck("db-proxy");
    await eventually(() => health("is down").length === 1, "down notice", 15_000);
    healthServer = await listen(healthPort);
    for (let i = 0; i < 3; i++) await s.ops.runHealthCheck("db-proxy");
    await eventually(() => health("back up").length === 1, "recovery notice", 15_000);
    await settled();
    expect(health("is down")).toHaveLength(1);
    expect(health("back up")).toHaveLength(1);
    expect(
      fake.sent(EVE).some((m) => m.text.includes("db-proxy")),
      "owners only",
    ).toBe(false);
  });
});

describe("circuit breaker", () => {
  it("three rejections in the window pause autonomy once, tell the owners the rule and numbers; low waits for a person until an owner resumes", async () => {
    for (let i = 0; i < 3; i++) {
      const r = (await api(s, "POST", "/api/approvals", { title: `risky ${i}`, gate: "medium" })).body;
      await eventually(() => cardOf(BOB, r.code), "card", 15_000);
      say(BOB, `reject ${r.code} no`);
      await eventually(async () => (await record(r.id)).status === "rejected", "rejected", 15_000);
    }
    const notice = await botSaid(ADAM, "paused by the breaker");
    expect(notice.text).toContain("3 rejections in the last 10 min (limit 3)");
    expect(notice.text).toContain("Say resume when it is safe");
    const pause = await s.settings.pauseState();
    expect(pause).toMatchObject({ paused: true, by: "breaker" });
    const audit = await s.db.pool.query(
      `SELECT actor, data FROM ${s.schema}.audit_log WHERE action = 'autonomy.paused'`,
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0].actor).toBe("breaker");
    expect(JSON.parse(audit.rows[0].data)).toMatchObject({ rule: "rejections", count: 3, limit: 3 });

    const low = (await api(s, "POST", "/api/approvals", { title: "tidy logs", gate: "low" })).body;
    expect(low.effectiveGate).toBe("medium");
    const card = await eventually(() => cardOf(BOB, low.code), "a card for the low request", 15_000);
    expect(card.replyMarkup!.inline_keyboard.flat().map((b) => b.text)).toContain("📝 Modify");

    let mark = lastId(BOB);
    say(BOB, "resume");
    await botSaid(BOB, "only an owner can resume", mark);
    expect((await s.settings.pauseState()).paused).toBe(true);

    mark = lastId(ADAM);
    say(ADAM, "resume");
    await botSaid(ADAM, "Resumed", mark);
    expect((await s.settings.pauseState()).paused).toBe(false);

    // Counted from the resume: one more rejection is not a new crossing.
    say(BOB, `reject ${low.code}`);
    await eventually(async () => (await record(low.id)).status === "rejected", "rejected", 15_000);
    await settled();
    expect((await s.settings.pauseState()).paused).toBe(false);
    expect(fake.sent(ADAM).filter((m) => m.text.includes("paused by the breaker"))).toHaveLength(1);
  });
});
