/**
 * The Telegram adapter against a fake Bot API on loopback: the real grammY client, the real
 * runner, real HTTP. Each test gets its own fake and channel.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelError, type Channel, type InboundButton, type InboundEvent } from "../../src/domain/channel.js";
import { createTelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { botBlocked, startFakeBotApi, tooManyRequests, type FakeBotApi } from "../fakes/fake-bot-api.js";

async function expectChannelError(promise: Promise<unknown>): Promise<ChannelError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a ChannelError to be thrown").toBeInstanceOf(ChannelError);
  return err as ChannelError;
}

const USER = 111_222_333;
const GROUP = -1_001_234_567_890;

let fake: FakeBotApi;
let log: ReturnType<typeof captureLogger>;
let channel: Channel;
let events: InboundEvent[];

function makeChannel(apiRoot = fake.apiRoot, token = fake.token): Channel {
  return createTelegramChannel({
    token,
    apiRoot,
    logger: log.logger,
    pollingTimeoutSeconds: 2,
    requestTimeoutMs: 3000,
  });
}

beforeEach(async () => {
  fake = await startFakeBotApi({ limits: false });
  log = captureLogger();
  channel = makeChannel();
  events = [];
});

afterEach(async () => {
  await channel.stop();
  await fake.close();
  expect(log.dump(), "the token leaked into a log line").not.toContain(fake.token);
});

describe("inbound", () => {
  beforeEach(async () => {
    await channel.start(async (event) => {
      events.push(event);
    });
  });

  it("turns a text, a reply, a reaction and a button press into InboundEvents", async () => {
    const card = await channel.send(String(USER), {
      text: "<b>K7QF</b> deploy?",
      buttons: [{ label: "✅", data: "a:K7QF" }],
    });

    const text = fake.userSendsText({ chatId: USER, text: "status" });
    const _reply = fake.userSendsText({ chatId: USER, text: "✅ ship it", replyToMessageId: Number(card.messageId) });
    const reaction = fake.userReacts({ chatId: USER, messageId: Number(card.messageId), emoji: "👍" });
    const press = fake.userPressesButton({ chatId: USER, messageId: Number(card.messageId), data: "a:K7QF" });
    await fake.waitFor(() => events.length >= 4, 3000, "four inbound events");

    const common = { channel: "telegram", chatId: String(USER), sender: expect.objectContaining({ id: String(USER) }) };
    expect(events[0]).toMatchObject({
      ...common,
      kind: "text",
      eventId: `tg:${text.updateId}`,
      messageId: String(text.messageId),
      text: "status",
    });
    expect(events[0]).not.toHaveProperty("replyToMessageId");
    expect(events[1]).toMatchObject({ ...common, kind: "text", text: "✅ ship it", replyToMessageId: card.messageId });
    expect(events[2]).toMatchObject({
      ...common,
      kind: "reaction",
      eventId: `tg:${reaction.updateId}`,
      messageId: card.messageId,
      emoji: "👍",
    });
    expect(events[3]).toMatchObject({
      ...common,
      kind: "button",
      eventId: `tg:${press.updateId}`,
      messageId: card.messageId,
      data: "a:K7QF",
    });
    expect(events[0]?.receivedAt).toBeInstanceOf(Date);
    // Telegram only sends message_reaction updates to bots that ask for them.
    expect(fake.allowedUpdates).toEqual(expect.arrayContaining(["message", "callback_query", "message_reaction"]));
  });

  it("reports a removed reaction as an empty emoji and keeps group chat and sender apart", async () => {
    const own = fake.userSendsText({ chatId: GROUP, fromId: USER, text: "/status@signoff_test_bot" });
    fake.userReacts({ chatId: GROUP, fromId: USER, messageId: own.messageId ?? 0, emoji: "👎" });
    fake.userReacts({ chatId: GROUP, fromId: USER, messageId: own.messageId ?? 0, emoji: "" });
    await fake.waitFor(() => events.length >= 3, 3000, "three inbound events");

    expect(events[0]).toMatchObject({
      kind: "text",
      chatId: String(GROUP),
      sender: { id: String(USER) },
      text: "/status@signoff_test_bot",
    });
    expect(events.slice(1).map((e) => (e.kind === "reaction" ? e.emoji : e.kind))).toEqual(["👎", ""]);
  });
});

describe("button presses", () => {
  it("answers every press exactly once: the handler's toast, else an empty answer, even if the handler throws", async () => {
    await channel.start(async (event) => {
      events.push(event);
      if (event.kind !== "button") return;
      if (event.data === "toast") {
        await event.answer?.("Approved");
        await event.answer?.("again"); // a second answer must not reach Telegram
      }
      if (event.data === "boom") throw new Error("handler exploded");
    });
    const card = await channel.send(String(USER), { text: "card", buttons: [{ label: "a", data: "toast" }] });
    const messageId = Number(card.messageId);
    const ids = ["toast", "silent", "boom"].map(
      (data) => fake.userPressesButton({ chatId: USER, messageId, data }).callbackQueryId ?? "",
    );
    await fake.waitFor(() => fake.callsTo("answerCallbackQuery").length >= 3, 3000, "three answers");
    fake.userSendsText({ chatId: USER, text: "still polling?" });
    await fake.waitFor(() => events.some((e) => e.kind === "text"), 3000, "a text after the throwing handler");

    const answers = fake.callsTo("answerCallbackQuery");
    expect(answers.map((a) => a.params.callback_query_id)).toEqual(ids);
    expect(answers.map((a) => a.params.text)).toEqual(["Approved", undefined, undefined]);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(log.lines.some((l) => l.level === "error" && l.msg === "inbound handler failed")).toBe(true);
    expect((events[0] as InboundButton).answer).toBeTypeOf("function");
  });
});

describe("outbound", () => {
  it("sends HTML with one row of buttons, no link preview, and replies with allow_sending_without_reply", async () => {
    const user = fake.userSendsText({ chatId: USER, text: "approve K7QF" });
    const ref = await channel.send(String(USER), {
      text: "<b>K7QF</b> deploy to prod",
      buttons: [
        { label: "✅ Approve", data: "approve:K7QF" },
        { label: "❌ Reject", data: "reject:K7QF" },
      ],
    });
    const reply = await channel.send(String(USER), { text: "Approved.", replyToMessageId: String(user.messageId) });
    const orphan = await channel.send(String(USER), { text: "Still fine.", replyToMessageId: "9999" });

    expect(ref).toEqual({ channel: "telegram", chatId: String(USER), messageId: expect.stringMatching(/^\d+$/) });
    const [card, replied, orphaned] = fake.sent(USER);
    expect(card).toMatchObject({
      messageId: Number(ref.messageId),
      text: "<b>K7QF</b> deploy to prod",
      parseMode: "HTML",
    });
    expect(card?.replyMarkup).toEqual({
      inline_keyboard: [
        [
          { text: "✅ Approve", callback_data: "approve:K7QF" },
          { text: "❌ Reject", callback_data: "reject:K7QF" },
        ],
      ],
    });
    expect(replied).toMatchObject({ messageId: Number(reply.messageId), replyToMessageId: user.messageId });
    expect(replied?.replyMarkup).toBeUndefined();
    expect(orphaned?.messageId).toBe(Number(orphan.messageId));
    const params = fake.callsTo("sendMessage").map((c) => c.params);
    expect(params[0]?.link_preview_options).toEqual({ is_disabled: true });
    expect(params[1]?.reply_parameters).toEqual({ message_id: user.messageId, allow_sending_without_reply: true });
  });

  it("refuses callback data over 64 bytes without calling Telegram", async () => {
    const err = await expectChannelError(
      channel.send(String(USER), { text: "card", buttons: [{ label: "x", data: "é".repeat(33) }] }),
    );
    expect(err.permanent).toBe(true);
    expect(fake.callsTo("sendMessage")).toHaveLength(0);
  });

  it("edits text and buttons, removes buttons with an empty list, and ignores 'not modified'", async () => {
    const ref = await channel.send(String(USER), { text: "pending", buttons: [{ label: "✅", data: "a:1" }] });
    await channel.edit(ref, { text: "pending (1/2)", buttons: [{ label: "✅", data: "a:2" }] });
    expect(fake.sent(USER)[0]).toMatchObject({
      text: "pending (1/2)",
      replyMarkup: { inline_keyboard: [[{ text: "✅", callback_data: "a:2" }]] },
    });

    await channel.edit(ref, { text: "<b>approved</b> by adam", buttons: [] });
    await channel.edit(ref, { text: "<b>approved</b> by adam", buttons: [] }); // Telegram: 400 not modified
    const [card] = fake.sent(USER);
    expect(card).toMatchObject({ text: "<b>approved</b> by adam", parseMode: "HTML", edits: 2 });
    expect(card?.replyMarkup).toBeUndefined();
    expect(fake.callsTo("editMessageText").map((c) => c.status)).toEqual([200, 200, 400]);
  });

  it("reacts with Telegram's allowed emoji: ✅ becomes 👍, ❌ becomes 👎, empty removes", async () => {
    const user = fake.userSendsText({ chatId: USER, text: "✅" });
    const ref = { channel: "telegram" as const, chatId: String(USER), messageId: String(user.messageId) };
    const reactions = () => fake.messages(USER)[0]?.botReactions;

    await channel.react(ref, "✅");
    expect(reactions()).toEqual(["👍"]);
    await channel.react(ref, "❌");
    expect(reactions()).toEqual(["👎"]);
    await channel.react(ref, "");
    expect(reactions()).toEqual([]);
    const err = await expectChannelError(channel.react(ref, "🦆"));
    expect(err.permanent).toBe(true);
  });
});

describe("errors", () => {
  it("turns Telegram's own flood limit (1 msg/s per chat) into a retryable error with retryAfterMs", async () => {
    const limited = await startFakeBotApi();
    const ch = makeChannel(limited.apiRoot, limited.token);
    try {
      await ch.send(String(USER), { text: "one" });
      const err = await expectChannelError(ch.send(String(USER), { text: "two" }));
      expect(err.permanent).toBe(false);
      expect(err.retryAfterMs).toBe(1000);
      expect(limited.sent(USER).map((m) => m.text)).toEqual(["one"]);
    } finally {
      await limited.close();
    }
  });

  it("maps an injected 429 storm to retryAfterMs, 403 to permanent, bad HTML to permanent", async () => {
    fake.failNext("sendMessage", 2, tooManyRequests(7));
    for (let i = 0; i < 2; i++) {
      const err = await expectChannelError(channel.send(String(USER), { text: "hi" }));
      expect(err).toMatchObject({ permanent: false, retryAfterMs: 7000 });
    }
    fake.failNext("sendMessage", 1, botBlocked);
    const blocked = await expectChannelError(channel.send(String(USER), { text: "hi" }));
    expect(blocked.permanent).toBe(true);
    expect(blocked.message).toContain("bot was blocked by the user");

    const html = await expectChannelError(channel.send(String(USER), { text: "<b>unclosed" }));
    expect(html.permanent).toBe(true);
    expect(html.retryAfterMs).toBeUndefined();
    await channel.send(String(USER), { text: "after the storm" });
    expect(fake.sent(USER).map((m) => m.text)).toEqual(["after the storm"]);
  });

  it("treats dropped connections and 5xx as retryable and never puts the token in the message", async () => {
    fake.failNext("sendMessage", 1, "network");
    const dropped = await expectChannelError(channel.send(String(USER), { text: "hi" }));
    expect(dropped.permanent).toBe(false);

    fake.failNext("editMessageText", 1, { error_code: 502, description: "Bad Gateway" });
    const ref = { channel: "telegram" as const, chatId: String(USER), messageId: "1" };
    const gateway = await expectChannelError(channel.edit(ref, { text: "x" }));
    expect(gateway.permanent).toBe(false);

    // A closed port: node-fetch's error text contains the full URL, token included.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = makeChannel(`http://127.0.0.1:${port}`);
    const refused = await expectChannelError(unreachable.send(String(USER), { text: "hi" }));
    expect(refused.permanent).toBe(false);
    expect(refused.message).toContain("ECONNREFUSED");
    for (const err of [dropped, gateway, refused]) {
      expect(err.message).not.toContain(fake.token);
      expect(String(err.stack)).not.toContain(fake.token);
    }
  });

  it("fails start on a wrong token with a permanent error that does not show the token", async () => {
    const wrong = "987654321:AAwrongWRONGwrongWRONGwrongWRONG123";
    const bad = makeChannel(fake.apiRoot, wrong);
    const err = await expectChannelError(bad.start(async () => undefined));
    expect(err.permanent).toBe(true);
    expect(err.message).toContain("401");
    expect(err.message).not.toContain(wrong);
    expect(bad.health().ok).toBe(false);
  });
});

describe("lifecycle", () => {
  it("handles one chat in order while other chats go ahead", async () => {
    const trace: string[] = [];
    await channel.start(async (event) => {
      if (event.kind !== "text") return;
      trace.push(`start ${event.text}`);
      if (event.text === "a1") await new Promise((r) => setTimeout(r, 150));
      trace.push(`end ${event.text}`);
    });
    fake.userSendsText({ chatId: USER, text: "a1" });
    fake.userSendsText({ chatId: USER, text: "a2" });
    fake.userSendsText({ chatId: USER + 1, text: "b1" });
    await fake.waitFor(() => trace.length === 6, 3000, "three handled texts");
    expect(trace.indexOf("start a2")).toBeGreaterThan(trace.indexOf("end a1"));
    expect(trace.indexOf("end b1")).toBeLessThan(trace.indexOf("end a1"));
  });

  it("reports polling health, stops cleanly and finishes in-flight handlers", async () => {
    expect(channel.health()).toEqual({ ok: false, detail: { mode: "polling", running: false, lastUpdateAt: null } });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let finished = false;
    await channel.start(async (event) => {
      events.push(event);
      await gate;
      finished = true;
    });
    expect(fake.callsTo("deleteWebhook")).toHaveLength(1);
    fake.userSendsText({ chatId: USER, text: "status" });
    await fake.waitFor(() => events.length === 1, 3000, "the event");
    const health = channel.health();
    expect(health).toMatchObject({ ok: true, detail: { mode: "polling", running: true } });
    expect(typeof health.detail.lastUpdateAt).toBe("string");

    const stopping = channel.stop();
    setTimeout(release, 50);
    await stopping;
    expect(finished, "stop() returned before the in-flight handler finished").toBe(true);
    expect(channel.health().detail.running).toBe(false);

    // After stop nothing is polled: a new text is not delivered.
    fake.userSendsText({ chatId: USER, text: "anyone?" });
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toHaveLength(1);
  });
});

describe("fake Bot API contract", () => {
  const call = async (method: string, body: unknown = {}, token = fake.token) => {
    const res = await fetch(`${fake.apiRoot}/bot${token}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { ok: boolean; result?: unknown; error_code?: number } };
  };

  it("answers 401 for a wrong token and 404 for an unknown method", async () => {
    expect(await call("getMe", {}, "1:wrong")).toMatchObject({
      status: 401,
      body: { ok: false, error_code: 401, description: "Unauthorized" },
    });
    expect(await call("sendPigeon")).toMatchObject({
      status: 404,
      body: { ok: false, description: "Not Found: method not found" },
    });
  });

  it("holds getUpdates until an update arrives and drops updates below the offset", async () => {
    const started = Date.now();
    const poll = call("getUpdates", { timeout: 2 });
    setTimeout(() => fake.userSendsText({ chatId: USER, text: "late" }), 100);
    const first = (await poll).body.result as Array<{ update_id: number }>;
    expect(first).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const id = first[0]?.update_id ?? 0;
    expect(((await call("getUpdates", { offset: id })).body.result as unknown[]).length).toBe(1);
    expect((await call("getUpdates", { offset: id + 1 })).body.result).toEqual([]);
  });

  it("refuses getUpdates while a webhook is set and posts updates with the secret header", async () => {
    let seen: { secret: unknown; body: string } | undefined;
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen = { secret: req.headers["x-telegram-bot-api-secret-token"], body };
        res.end("ok");
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/tg`;
    try {
      await call("setWebhook", { url, secret_token: "s3cret" });
      expect((await call("getUpdates")).status).toBe(409);
      expect((await call("getWebhookInfo")).body.result).toMatchObject({ url });
      const update = fake.buildText({ chatId: USER, text: "via webhook" });
      expect(await fake.postWebhook(url, update)).toEqual({ status: 200, body: "ok" });
      expect(seen?.secret).toBe("s3cret");
      expect(JSON.parse(seen?.body ?? "{}")).toMatchObject({
        update_id: update.update_id,
        message: { text: "via webhook" },
      });
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});
