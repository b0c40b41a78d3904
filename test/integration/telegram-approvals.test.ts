/**
 * Approvals answered on Telegram, end to end: a real signoff (PostgreSQL + Redis) with a real
 * grammY bot talking to the fake Bot API on loopback, which enforces Telegram's flood limits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import type { Signoff } from "../../src/main.js";
import { startFakeBotApi, tooManyRequests, type FakeBotApi, type FakeMessage } from "../fakes/fake-bot-api.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

const ADAM = 1001;
const EVE = 1002;
const STRANGER = 4242;

let fake: FakeBotApi;
let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  fake = await startFakeBotApi();
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: {
      debug() {},
      info() {},
      warn() {},
      error() {},
      child() {
        return this;
      },
    },
    pollingTimeoutSeconds: 1,
  });
  s = await startTestSignoff({ channels: [channel], webchat: false });
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

const botMessages = (chat: number) => fake.sent(chat);
const cardIn = (chat: number, code: string) =>
  eventually(
    () =>
      botMessages(chat).find((m) => m.text.includes(code) && (m.replyMarkup?.inline_keyboard.flat().length ?? 0) > 0),
    `card ${code} in chat ${chat}`,
    15_000,
  );
const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;
const decided = (id: string) =>
  eventually(async () => ((await record(id)).status !== "pending" ? record(id) : null), `decision of ${id}`, 15_000);
const edited = (chat: number, messageId: number, word: string) =>
  eventually(
    () => botMessages(chat).find((m) => m.messageId === messageId && m.text.includes(word) && m.edits > 0),
    `edit of ${messageId} in ${chat} to "${word}"`,
    15_000,
  );

async function newMedium(title: string) {
  const a = (await api(s, "POST", "/api/approvals", { title, gate: "medium" })).body;
  return { a, adamCard: await cardIn(ADAM, a.code), eveCard: await cardIn(EVE, a.code) };
}

describe("Telegram approvals", () => {
  it("a medium card reaches approvers with buttons; a button press decides it, answers the callback, edits every card", async () => {
    const { a, adamCard, eveCard } = await newMedium("deploy <api> & co");
    expect(adamCard.parseMode).toBe("HTML");
    expect(adamCard.text).toContain("deploy &lt;api&gt; &amp; co"); // escaped once, shown as typed
    const labels = adamCard.replyMarkup!.inline_keyboard.flat().map((b) => b.text);
    expect(labels).toEqual(["✅ Approve", "❌ Reject", "📝 Modify"]);
    const approve = adamCard.replyMarkup!.inline_keyboard.flat()[0]! as { callback_data: string };
    const press = fake.userPressesButton({ chatId: ADAM, messageId: adamCard.messageId, data: approve.callback_data });
    expect(await decided(a.id)).toMatchObject({ status: "approved", decidedBy: "adam" });
    const answers = await eventually(
      () =>
        fake.callbackQueries.get(press.callbackQueryId!)?.answers.length
          ? fake.callbackQueries.get(press.callbackQueryId!)!.answers
          : null,
      "callback answer",
    );
    expect(answers).toHaveLength(1);
    expect(String(answers[0]!.text)).toContain("Approved");
    const adamEdited = await edited(ADAM, adamCard.messageId, "Approved");
    const eveEdited = await edited(EVE, eveCard.messageId, "Approved");
    expect(eveEdited.text).toContain("by adam");
    expect(eveEdited.replyMarkup?.inline_keyboard.flat() ?? []).toHaveLength(0); // buttons gone
    await eventually(() => adamEdited.botReactions.includes("👍"), "✅ reaction (👍 on Telegram) on the card");
  });

  it("a reaction, a reply, a code and a bare no each decide", async () => {
    const one = await newMedium("by reaction");
    fake.userReacts({ chatId: EVE, messageId: one.eveCard.messageId, emoji: "👎🏽" });
    expect(await decided(one.a.id)).toMatchObject({ status: "rejected", decidedBy: "eve" });

    const two = await newMedium("by reply");
    fake.userSendsText({ chatId: ADAM, text: "📝 use staging first", replyToMessageId: two.adamCard.messageId });
    expect(await decided(two.a.id)).toMatchObject({ status: "changes_requested", note: "use staging first" });

    const three = await newMedium("by code");
    fake.userSendsText({ chatId: EVE, text: `/approve@signoff_test_bot ${three.a.code}` });
    expect(await decided(three.a.id)).toMatchObject({ status: "approved", decidedBy: "eve" });

    const four = await newMedium("by bare no");
    fake.userSendsText({ chatId: ADAM, text: "no" });
    expect(await decided(four.a.id)).toMatchObject({ status: "rejected", decidedBy: "adam" });
    // the decider gets a one-line confirmation
    await eventually(
      () => botMessages(ADAM).find((m) => m.text.startsWith("❌ Rejected") && m.text.includes(four.a.code)),
      "confirmation",
    );
  });

  it("a low-gate notice proceeds after its window; ❌ in the window rejects", async () => {
    // The window counts from the notice's delivery, and Telegram paces each chat to one message a
    // second: a window shorter than this chat's backlog would (rightly) turn the request medium.
    const go = (await api(s, "POST", "/api/approvals", { title: "restart worker", gate: "low", objectionSeconds: 4 }))
      .body;
    expect(await decided(go.id)).toMatchObject({ status: "approved", decidedBy: "objection-window" });
    const stop = (await api(s, "POST", "/api/approvals", { title: "drop cache", gate: "low", objectionSeconds: 6 }))
      .body;
    const notice = await eventually(() => botMessages(EVE).find((m) => m.text.includes(stop.code)), "notice", 15_000);
    fake.userSendsText({ chatId: EVE, text: "❌", replyToMessageId: notice.messageId });
    expect(await decided(stop.id)).toMatchObject({ status: "rejected", decidedBy: "eve" });
  });

  it("/api/health reports the Telegram channel: polling and the last update seen", async () => {
    fake.userSendsText({ chatId: ADAM, text: "help" });
    const health = await eventually(async () => {
      const h = await api(s, "GET", "/api/health", undefined, null);
      return h.body.checks?.telegram?.lastUpdateAt ? h : null;
    }, "health with lastUpdateAt");
    expect(health.status).toBe(200);
    expect(health.body.checks.telegram).toMatchObject({ status: "up", mode: "polling", running: true });
  });

  it("a stranger's messages change nothing and get no facts", async () => {
    const { a } = await newMedium("stranger target");
    const before = botMessages(STRANGER).length;
    fake.userSendsText({ chatId: STRANGER, text: `approve ${a.code}` });
    fake.userSendsText({ chatId: STRANGER, text: "status" });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await record(a.id)).status).toBe("pending");
    const replies = botMessages(STRANGER).slice(before);
    expect(replies.length).toBeLessThanOrEqual(1); // at most the pairing code
    for (const m of replies) expect(m.text).not.toContain(a.code);
    // In a group, a stranger gets nothing at all: everyone there would read the pairing code.
    const GROUP = -100_777;
    fake.userSendsText({ chatId: GROUP, fromId: STRANGER + 1, text: "status" });
    await new Promise((r) => setTimeout(r, 1000));
    expect(botMessages(GROUP)).toHaveLength(0);
    await api(s, "POST", `/api/approvals/${a.id}/cancel`, {});
  });

  it("the same update delivered twice is handled once", async () => {
    const { a, adamCard } = await newMedium("dedupe");
    const update = fake.buildText({ chatId: ADAM, text: "✅ ship it", replyToMessageId: adamCard.messageId });
    fake.pushUpdate(update);
    fake.pushUpdate(update); // Telegram redelivers the same update_id
    expect(await decided(a.id)).toMatchObject({ status: "approved" });
    await new Promise((r) => setTimeout(r, 2500));
    const confirmations = botMessages(ADAM).filter((m) => m.text.includes(a.code) && m.text.startsWith("✅ Approved"));
    expect(confirmations).toHaveLength(1);
    expect((await record(a.id)).decisions).toHaveLength(1);
  });

  it("a 429 storm: every message still arrives, in order per chat, none twice", async () => {
    fake.failNext("sendMessage", 6, tooManyRequests(1));
    const count = 4;
    for (let i = 0; i < count; i++) {
      await api(s, "POST", "/api/approvals", { title: `storm ${i}`, gate: "auto", notify: true });
    }
    const arrived = (chat: number) => botMessages(chat).filter((m: FakeMessage) => /storm \d/.test(m.text));
    await eventually(() => arrived(ADAM).length >= count && arrived(EVE).length >= count, "all storm notices", 25_000);
    await new Promise((r) => setTimeout(r, 1500));
    for (const chat of [ADAM, EVE]) {
      const titles = arrived(chat).map((m) => /storm (\d)/.exec(m.text)![1]);
      expect(titles, `chat ${chat}`).toEqual(["0", "1", "2", "3"]);
    }
    expect(fake.calls.filter((c) => c.method === "sendMessage" && c.status === 429).length).toBeGreaterThanOrEqual(6);
  }, 40_000);
});
