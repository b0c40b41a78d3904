/**
 * Reminders end to end on Telegram (the fake Bot API): an undecided request reminds the approvers
 * who have not answered at half time, replying to their card; nothing after an answer or with
 * `remind: false`; the reminder survives a restart and Redis losing its keys (re-created
 * from PostgreSQL); and a `low` request that a pause turned into one waiting for a person
 * reminds too, counted from then.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import type { Signoff } from "../../src/main.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { REDIS_URL, api, cleanupTestInstance, eventually } from "../helpers/harness.js";
import { cardIn, remindersIn, startTelegramSignoff } from "../helpers/telegram-signoff.js";

const ADAM = 1001;
const EVE = 1002;
const OPERATORS = [
  { name: "adam", roles: ["owner", "approver"], timezone: "UTC", telegram: String(ADAM) },
  { name: "eve", roles: ["approver"], timezone: "UTC", telegram: String(EVE) },
];
// The default reminder points (half time, 15 minutes before), as an operator's file leaves them.
const FILE = { operators: OPERATORS, approvals: { callbackBackoffMs: 50 } };

let fake: FakeBotApi;
let redis: Redis;
const instances: Array<{ schema: string; prefix: string }> = [];
beforeAll(async () => {
  fake = await startFakeBotApi();
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await fake?.close();
  await redis?.quit();
  for (const i of instances) await cleanupTestInstance(i.schema, i.prefix);
});

async function start(
  names?: { schema: string; prefix: string },
  file: Record<string, unknown> = FILE,
): Promise<Signoff & { schema: string; prefix: string }> {
  const s = await startTelegramSignoff(fake, { ...(names ?? {}), file });
  if (!names) instances.push({ schema: s.schema, prefix: s.prefix });
  return s;
}

const create = async (s: Signoff, body: Record<string, unknown>) =>
  (await api(s, "POST", "/api/approvals", { gate: "medium", ...body })).body;

const reminderOf = (chat: number, code: string, timeoutMs = 25_000) =>
  eventually(() => remindersIn(fake, chat, code)[0], `reminder of ${code} in chat ${chat}`, timeoutMs, 50);

describe("reminders", () => {
  it("remind at half time those who have not answered, replying to their card; none after an answer or with remind: false", async () => {
    const s = await start();
    try {
      const createdAt = Date.now();
      const waits = await create(s, { title: "Deploy api v2.3", deadlineSeconds: 20 });
      const answered = await create(s, { title: "answered early", deadlineSeconds: 20 });
      const quiet = await create(s, { title: "no reminders", deadlineSeconds: 20, remind: false });
      const quorum = await create(s, { title: "two needed", deadlineSeconds: 20, approvers: { quorum: 2 } });
      const adamCard = await cardIn(fake, ADAM, waits.code);
      const eveCard = await cardIn(fake, EVE, waits.code);
      // Answered well before half time: decided, so it never reminds anyone.
      fake.userSendsText({ chatId: EVE, text: `approve ${answered.code}` });
      // adam's vote counts toward the quorum of two: only eve still owes an answer.
      fake.userSendsText({ chatId: ADAM, text: `approve ${quorum.code}` });
      await eventually(async () => (await s.service.get(answered.id))?.status === "approved", "early answer");
      await eventually(async () => (await s.service.get(quorum.id))?.decisions.length === 1, "adam's vote");

      const toAdam = await reminderOf(ADAM, waits.code);
      const toEve = await reminderOf(EVE, waits.code);
      // Due at 10 s of a 20 s deadline (the 15-minute point is before the request existed).
      expect(Date.now() - createdAt).toBeGreaterThanOrEqual(9_500);
      expect(toAdam.text).toMatch(
        new RegExp(`^⏰ <b>${waits.code}</b> still needs your answer: Deploy api v2\\.3 — \\d+s left\\.$`),
      );
      expect(toAdam.replyToMessageId).toBe(adamCard.messageId);
      expect(toEve.replyToMessageId).toBe(eveCard.messageId);
      await reminderOf(EVE, quorum.code);
      // Every reminder of the same moment has had its turn in these chats by now.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(remindersIn(fake, ADAM, quorum.code), "adam voted already").toHaveLength(0);
      for (const chat of [ADAM, EVE]) {
        expect(remindersIn(fake, chat, answered.code), "decided before half time").toHaveLength(0);
        expect(remindersIn(fake, chat, quiet.code), "remind: false").toHaveLength(0);
        expect(remindersIn(fake, chat, waits.code), "one reminder each").toHaveLength(1);
      }
      expect((await s.service.get(waits.id))?.remindersSent).toBe(1);
    } finally {
      await s.close();
    }
  }, 40_000);

  it("a low request a pause made wait for a person reminds at half its new time", async () => {
    // Escalated requests get the default deadline: 20 s here, so half time is 10 s after the pause.
    const s = await start(undefined, { ...FILE, approvals: { ...FILE.approvals, deadlineSeconds: 20 } });
    try {
      const low = await create(s, { title: "rotate keys", gate: "low", objectionSeconds: 2 });
      await eventually(() => fake.sent(ADAM).find((m) => m.text.includes(low.code)), "the notice");
      await s.settings.setPaused(true, "adam");
      const escalated = await eventually(async () => {
        const a = await s.service.get(low.id);
        return a?.effectiveGate === "medium" ? a : undefined;
      }, "the pause to reach it at its window's end");
      expect(escalated.remindAt).toHaveLength(1);
      const dueAt = escalated.remindAt[0]!.getTime();
      expect(dueAt - escalated.deadlineAt!.getTime()).toBeCloseTo(-10_000, -3);

      const reminder = await reminderOf(ADAM, low.code);
      expect(Date.now()).toBeGreaterThanOrEqual(dueAt - 100);
      expect(reminder.text).toContain("rotate keys");
      expect((await s.service.get(low.id))?.remindersSent).toBe(1);
    } finally {
      await s.settings.setPaused(false, "adam");
      await s.close();
    }
  }, 40_000);

  it("survive a restart: the reminder comes from the next process", async () => {
    const first = await start();
    const names = { schema: first.schema, prefix: first.prefix };
    const a = await create(first, { title: "restart survivor", deadlineSeconds: 10 });
    const card = await cardIn(fake, ADAM, a.code);
    await first.close();
    const second = await start(names);
    try {
      const reminder = await reminderOf(ADAM, a.code);
      expect(reminder.replyToMessageId).toBe(card.messageId);
      expect((await second.service.get(a.id))?.status).toBe("pending");
    } finally {
      await second.close();
    }
  }, 40_000);

  it("survive Redis losing its keys: re-created from PostgreSQL, the reminder still comes once", async () => {
    const s = await start();
    try {
      const a = await create(s, { title: "key loss survivor", deadlineSeconds: 12 });
      await cardIn(fake, ADAM, a.code);
      expect(await deleteKeysWithPrefix(redis, s.prefix)).toBeGreaterThan(0);
      const reminder = await reminderOf(ADAM, a.code);
      expect(reminder.text).toContain("key loss survivor");
      await new Promise((r) => setTimeout(r, 1_000));
      expect(remindersIn(fake, ADAM, a.code)).toHaveLength(1);
    } finally {
      await s.close();
    }
  }, 40_000);
});
