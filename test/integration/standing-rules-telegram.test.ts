/**
 * "✅ Always" on Telegram, end to end: a real signoff (PostgreSQL + Redis) and a real grammY bot
 * talking to the fake Bot API. The card of a medium request with an action has the fourth
 * button; pressing it approves the request and makes a rule, and the next matching request is
 * approved by the rule without the Bot API ever seeing a sendMessage for it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import type { Signoff } from "../../src/main.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

const ADAM = 1001;
const EVE = 1002;

let fake: FakeBotApi;
let s: Signoff & { schema: string; prefix: string };

beforeAll(async () => {
  fake = await startFakeBotApi();
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: { ...quiet, child: () => ({ ...quiet, child: () => quiet }) } as never,
    pollingTimeoutSeconds: 1,
  });
  s = await startTestSignoff({ channels: [channel], webchat: false });
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

const cardIn = (chat: number, code: string) =>
  eventually(
    () => fake.sent(chat).find((m) => m.text.includes(code) && (m.replyMarkup?.inline_keyboard.flat().length ?? 0) > 0),
    `card ${code} in chat ${chat}`,
    15_000,
  );
const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;
/** sendMessage calls whose text names `code`. */
const sendsFor = (code: string) =>
  fake.callsTo("sendMessage").filter((c) => String((c.params as { text?: unknown }).text ?? "").includes(code));

describe("standing approvals on Telegram", () => {
  it("a medium card with an action has ✅ Always; pressing it approves and makes a rule that approves the next one with no message", async () => {
    const body = { title: "Deploy staging", gate: "medium", action: "deploy:staging", agent: "builder" };
    const a = (await api(s, "POST", "/api/approvals", body)).body;
    const card = await cardIn(ADAM, a.code);
    const buttons = card.replyMarkup!.inline_keyboard.flat() as Array<{ text: string; callback_data: string }>;
    expect(buttons.map((b) => b.text)).toEqual(["✅ Approve", "❌ Reject", "📝 Modify", "✅ Always"]);
    expect(card.text).toContain("✅ always");

    const press = fake.userPressesButton({
      chatId: ADAM,
      messageId: card.messageId,
      data: buttons.find((b) => b.text === "✅ Always")!.callback_data,
    });
    const decided = await eventually(async () => {
      const r = await record(a.id);
      return r.status !== "pending" ? r : null;
    }, "the decision");
    expect(decided).toMatchObject({ status: "approved", decidedBy: "adam" });
    const toast = await eventually(
      () => fake.callbackQueries.get(press.callbackQueryId!)?.answers[0],
      "the button's toast",
    );
    const rule = /rule (R\d+)/.exec(JSON.stringify(toast))?.[1];
    expect(rule, JSON.stringify(toast)).toBeDefined();
    await eventually(
      () => fake.sent(ADAM).find((m) => m.text.includes(`revoke rule ${rule}`) && m.text.includes("deploy:staging")),
      "the rule confirmation",
    );

    const next = (await api(s, "POST", "/api/approvals", { ...body, title: "Deploy staging again" })).body;
    expect(next).toMatchObject({ status: "approved", decidedBy: `rule:${rule}`, ruleId: rule });
    // The first request's cards reached both approvers; give this one as long, then some.
    await eventually(() => fake.sent(EVE).find((m) => m.text.includes(a.code)), "the first card in eve's chat");
    const other = (await api(s, "POST", "/api/approvals", { ...body, action: "deploy:production" })).body;
    await cardIn(ADAM, other.code);
    await cardIn(EVE, other.code);
    expect(sendsFor(next.code)).toEqual([]);
    expect(sendsFor(a.code).length).toBeGreaterThanOrEqual(2);
  });

  it("a card without an action, or a hard one, has no ✅ Always", async () => {
    const plain = (await api(s, "POST", "/api/approvals", { title: "Plain", gate: "medium" })).body;
    const hard = (
      await api(s, "POST", "/api/approvals", { title: "Hard", gate: "hard", preview: "DROP", action: "db:drop" })
    ).body;
    for (const a of [plain, hard]) {
      const labels = (await cardIn(ADAM, a.code)).replyMarkup!.inline_keyboard.flat().map((b) => b.text);
      expect(labels).toEqual(["✅ Approve", "❌ Reject", "📝 Modify"]);
    }
  });
});
