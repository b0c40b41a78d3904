/**
 * Telegram webhook mode: a real fastify server with the webhook route, a real grammY bot inside
 * the channel, and the fake Bot API posting updates the way Telegram does.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/domain/channel.js";
import { createTelegramChannel, type TelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import { registerTelegramWebhookRoute } from "../../src/bot/telegram/telegram-webhook.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";

const SECRET = "whk_Secret-0123456789abcdefABCDEF";
const USER = 424_242;

let fake: FakeBotApi;
let app: FastifyInstance;
let url: string;
let log: ReturnType<typeof captureLogger>;
let channel: TelegramChannel;
let events: InboundEvent[];

beforeEach(async () => {
  fake = await startFakeBotApi({ limits: false });
  log = captureLogger();
  events = [];
  app = Fastify({ logger: false });
  // Routes must exist before listen, the URL only after: the route finds the channel late.
  registerTelegramWebhookRoute(app, { handleWebhook: (body, header) => channel.handleWebhook(body, header) });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  url = `${address}/telegram/webhook`;
  channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: log.logger,
    requestTimeoutMs: 3000,
    webhook: { url, secret: SECRET },
  });
});

afterEach(async () => {
  await channel.stop();
  await app.close();
  await fake.close();
  const logs = log.dump();
  expect(logs, "the token leaked into a log line").not.toContain(fake.token);
  expect(logs, "the webhook secret leaked into a log line").not.toContain(SECRET);
});

/** Rejects when `promise` takes longer than `ms`, so a hanging request fails fast. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
  );
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const record = async (event: InboundEvent) => {
  events.push(event);
};

describe("webhook mode", () => {
  it("sets the webhook with the secret, allowed updates and no dropping, and never polls", async () => {
    await channel.start(record);
    const calls = fake.callsTo("setWebhook");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.params).toMatchObject({ url, secret_token: SECRET, drop_pending_updates: false });
    expect(calls[0]?.params.allowed_updates).toEqual(
      expect.arrayContaining(["message", "callback_query", "message_reaction"]),
    );
    expect(channel.health()).toEqual({ ok: true, detail: { mode: "webhook", running: true, lastUpdateAt: null } });
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.callsTo("getUpdates"), "webhook mode must not poll").toHaveLength(0);
    expect(fake.callsTo("deleteWebhook")).toHaveLength(0);
  });

  it("answers 401 to a missing or wrong secret token and hands the right one's update to the handler", async () => {
    await channel.start(record);
    const update = fake.buildText({ chatId: USER, text: "status" });

    expect((await fake.postWebhook(url, update, null)).status, "no secret header").toBe(401);
    expect((await fake.postWebhook(url, update, "wrong")).status, "wrong secret").toBe(401);
    const sameLength = SECRET.slice(0, -1) + (SECRET.endsWith("F") ? "G" : "F");
    expect((await fake.postWebhook(url, update, sameLength)).status, "wrong secret of the right length").toBe(401);
    await new Promise((r) => setTimeout(r, 50));
    expect(events, "a refused update reached the handler").toHaveLength(0);

    expect((await fake.postWebhook(url, update)).status).toBe(200);
    await fake.waitFor(() => events.length === 1, 2000, "the update to reach onInbound");
    expect(events[0]).toMatchObject({
      kind: "text",
      text: "status",
      chatId: String(USER),
      eventId: `tg:${update.update_id}`,
    });
    expect(typeof channel.health().detail.lastUpdateAt).toBe("string");
  });

  it("answers before the handler is done, keeps one chat in order and lets other chats go ahead", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const trace: string[] = [];
    await channel.start(async (event) => {
      if (event.kind !== "text") return;
      trace.push(`start ${event.text}`);
      if (event.text === "a1") await gate;
      trace.push(`end ${event.text}`);
    });

    // The handler of a1 is still blocked: the answer must not wait for it.
    const a1 = await within(
      1000,
      fake.postWebhook(url, fake.buildText({ chatId: USER, text: "a1" })),
      "the webhook answer",
    ).catch((err: unknown) => {
      release(); // let afterEach's stop() finish
      throw err;
    });
    const a2 = await fake.postWebhook(url, fake.buildText({ chatId: USER, text: "a2" }));
    const b1 = await fake.postWebhook(url, fake.buildText({ chatId: USER + 1, text: "b1" }));
    expect([a1.status, a2.status, b1.status]).toEqual([200, 200, 200]);
    expect(a1.body, "a webhook reply body would be run by Telegram").toBe("");
    await fake.waitFor(() => trace.includes("end b1"), 2000, "the other chat's update");
    expect(trace, "a2 started while a1 was still being handled").toEqual(["start a1", "start b1", "end b1"]);

    release();
    await fake.waitFor(() => trace.length === 6, 2000, "all three handled");
    expect(trace.slice(3)).toEqual(["end a1", "start a2", "end a2"]);
  });

  it("hands one chat's updates to the handler in the order they arrived", async () => {
    const seen: string[] = [];
    await channel.start(async (event) => {
      if (event.kind !== "text") return;
      seen.push(event.text);
      await new Promise((r) => setTimeout(r, 5));
    });
    const texts = Array.from({ length: 8 }, (_, i) => `m${i}`);
    for (const text of texts)
      expect((await fake.postWebhook(url, fake.buildText({ chatId: USER, text }))).status).toBe(200);
    await fake.waitFor(() => seen.length === texts.length, 2000, "all updates handled");
    expect(seen).toEqual(texts);
  });

  it("refuses bodies that are not updates, and answers 503 before start and after stop so Telegram retries", async () => {
    const update = fake.buildText({ chatId: USER, text: "early" });
    expect(await channel.handleWebhook(update, SECRET)).toEqual({ status: 503 });
    await channel.start(record);
    expect(await channel.handleWebhook({ message: {} }, SECRET)).toEqual({ status: 400 });
    expect(await channel.handleWebhook("nope", SECRET)).toEqual({ status: 400 });
    expect(await channel.handleWebhook({ update_id: 1 }, undefined), "the secret is checked first").toEqual({
      status: 401,
    });
    await channel.stop();
    expect(await channel.handleWebhook(update, SECRET)).toEqual({ status: 503 });
    expect(channel.health().ok).toBe(false);
    expect(events).toHaveLength(0);
  });

  it("stop waits for updates already taken", async () => {
    let finished = false;
    await channel.start(async () => {
      await new Promise((r) => setTimeout(r, 150));
      finished = true;
    });
    expect((await fake.postWebhook(url, fake.buildText({ chatId: USER, text: "slow" }))).status).toBe(200);
    expect(finished).toBe(false);
    await channel.stop();
    expect(finished, "stop() returned before the queued update was handled").toBe(true);
  });
});

describe("one event id however the update arrives", () => {
  it("gives the same InboundEvent (eventId tg:<update_id>) by webhook and by long polling", async () => {
    await channel.start(record);
    const card = await channel.send(String(USER), { text: "card", buttons: [{ label: "✅", data: "a:K7QF" }] });
    const updates = [
      fake.buildText({ chatId: USER, text: "approve K7QF" }),
      fake.buildReaction({ chatId: USER, messageId: Number(card.messageId), emoji: "👍" }),
      fake.buildButtonPress({ chatId: USER, messageId: Number(card.messageId), data: "a:K7QF" }),
    ];
    for (const update of updates) expect((await fake.postWebhook(url, update)).status).toBe(200);
    await fake.waitFor(() => events.length === 3, 2000, "three webhook events");
    const viaWebhook = events.splice(0);
    await channel.stop();

    const poller = createTelegramChannel({
      token: fake.token,
      apiRoot: fake.apiRoot,
      logger: log.logger,
      pollingTimeoutSeconds: 1,
    });
    try {
      await poller.start(record);
      for (const update of updates) fake.pushUpdate(update);
      await fake.waitFor(() => events.length === 3, 3000, "three polled events");
    } finally {
      await poller.stop();
    }
    const comparable = (e: InboundEvent) => ({ ...e, receivedAt: undefined, answer: undefined });
    expect(events.map((e) => e.eventId)).toEqual(updates.map((u) => `tg:${u.update_id}`));
    expect(events.map(comparable)).toEqual(viaWebhook.map(comparable));
  });
});

describe("polling mode", () => {
  it("has no webhook intake", async () => {
    const polling = createTelegramChannel({ token: fake.token, apiRoot: fake.apiRoot, logger: log.logger });
    expect(await polling.handleWebhook(fake.buildText({ chatId: USER, text: "x" }), SECRET)).toEqual({ status: 404 });
  });
});
