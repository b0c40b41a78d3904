/**
 * Telegram benchmarks against the fake Bot API on loopback (a real grammY bot inside signoff):
 *   tg-inbound   10,000 "status" messages from 100 chats through the whole pipeline, vs a bare
 *                grammY echo bot (`bot.start()`) on the same fake in the same run.
 *   tg-outbound  a notice to 600 chats with the fake enforcing 30 msg/s: achieved rate ÷ 30 and
 *                the number of 429 responses.
 *   tg-reaction  a reaction on a card → decision committed → callback queued, p50/p99.
 */
import { Bot } from "grammy";
import { QueueEvents } from "bullmq";
import pg from "pg";
import { createTelegramChannel } from "../src/bot/telegram/telegram-channel.js";
import type { Channel, InboundHandler } from "../src/domain/channel.js";
import { DELIVERY_QUEUE } from "../src/jobs/callback-queue.js";
import { startFakeBotApi } from "../test/fakes/fake-bot-api.js";
import { startCallbackReceiver } from "../test/helpers/callback-receiver.js";
import {
  DATABASE_URL,
  REDIS_URL,
  SOURCE_TOKEN,
  api,
  cleanupTestInstance,
  eventually,
  startTestSignoff,
} from "../test/helpers/harness.js";
import type { BenchResult } from "./run.js";
import { percentile } from "./stats.js";

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};
const operators = (n: number, role = (_i: number) => "approver") =>
  Array.from({ length: n }, (_, i) => ({ name: `op${i}`, roles: [role(i)], telegram: String(10_000 + i) }));

/** Wrap a channel so we learn when each inbound event has been fully handled. */
function counting(channel: Channel, onHandled: () => void): Channel {
  return Object.assign(Object.create(channel) as Channel, {
    start: (handler: InboundHandler) =>
      channel.start(async (event) => {
        await handler(event);
        onHandled();
      }),
  });
}

export async function benchTelegramInbound(): Promise<BenchResult> {
  const MESSAGES = Number(process.env.BENCH_TG_INBOUND ?? 10_000);
  const CHATS = 100;
  const push = (fake: Awaited<ReturnType<typeof startFakeBotApi>>) => {
    for (let i = 0; i < MESSAGES; i++) fake.userSendsText({ chatId: 10_000 + (i % CHATS), text: "status" });
  };

  // Bare grammY echo bot.
  const echoFake = await startFakeBotApi({ limits: false });
  const bot = new Bot(echoFake.token, { client: { apiRoot: echoFake.apiRoot } });
  let echoed = 0;
  bot.on("message:text", async (ctx) => {
    await ctx.reply(ctx.message.text);
    echoed++;
  });
  push(echoFake);
  const echoStart = performance.now();
  void bot.start({ timeout: 1 });
  await eventually(() => echoed >= MESSAGES, "echo bot", 300_000, 5);
  const echoSeconds = (performance.now() - echoStart) / 1000;
  await bot.stop();
  await echoFake.close();

  // signoff, the whole pipeline: dedupe in PostgreSQL, operator lookup, intent, reply queued.
  const fake = await startFakeBotApi({ limits: false });
  let handled = 0;
  const channel = counting(
    createTelegramChannel({ token: fake.token, apiRoot: fake.apiRoot, logger: quiet, pollingTimeoutSeconds: 1 }),
    () => handled++,
  );
  const s = await startTestSignoff({ channels: [channel], webchat: false, file: { operators: operators(CHATS) } });
  try {
    push(fake);
    const start = performance.now();
    await eventually(() => handled >= MESSAGES, "signoff inbound", 300_000, 5);
    const seconds = (performance.now() - start) / 1000;
    const metrics = {
      messages: MESSAGES,
      signoffPerSecond: MESSAGES / seconds,
      echoPerSecond: MESSAGES / echoSeconds,
      ratio: echoSeconds / seconds,
    };
    return {
      name: "tg-inbound",
      metrics,
      targets: { ratio: "≥ 0.5" },
      met: metrics.ratio >= 0.5,
      notes: "echo = grammY bot.start() replying to each message; signoff = handled (reply queued to the outbox)",
    };
  } finally {
    await s.close();
    await fake.close();
    await cleanupTestInstance(s.schema, s.prefix);
  }
}

export async function benchTelegramOutbound(): Promise<BenchResult> {
  const CHATS = 600;
  const fake = await startFakeBotApi(); // enforces 30 msg/s, 1 msg/s per chat
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: quiet,
    pollingTimeoutSeconds: 1,
  });
  const s = await startTestSignoff({ channels: [channel], webchat: false, file: { operators: operators(CHATS) } });
  try {
    await api(s, "POST", "/api/approvals", { title: "maintenance window starts at 22:00", gate: "auto", notify: true });
    const sends = () => fake.calls.filter((c) => c.method === "sendMessage" && c.status === 200);
    await eventually(() => sends().length >= CHATS, "600 notices", 120_000, 50);
    const times = sends()
      .map((c) => c.at)
      .sort((a, b) => a - b);
    const rate = (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1000);
    const rejected = fake.calls.filter((c) => c.status === 429).length;
    if (process.env.BENCH_DEBUG) {
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      process.stdout.write(
        `gaps p1 ${percentile(gaps, 1)} p50 ${percentile(gaps, 50)} p99 ${percentile(gaps, 99)} max ${Math.max(...gaps)} sum>60: ${gaps.filter((g) => g > 60).reduce((a, b) => a + b, 0)}\n`,
      );
    }
    const metrics = { chats: CHATS, perSecond: rate, ratioOf30: rate / 30, responses429: rejected };
    return {
      name: "tg-outbound",
      metrics,
      targets: { ratioOf30: "≥ 0.95", responses429: "= 0" },
      met: metrics.ratioOf30 >= 0.95 && rejected === 0,
    };
  } finally {
    await s.close();
    await fake.close();
    await cleanupTestInstance(s.schema, s.prefix);
  }
}

export async function benchTelegramReaction(): Promise<BenchResult> {
  const CHATS = 100;
  const PER_CHAT = 5;
  const fake = await startFakeBotApi({ limits: false });
  const receiver = await startCallbackReceiver();
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: quiet,
    pollingTimeoutSeconds: 1,
  });
  // One role per operator so each card goes to exactly one chat.
  const s = await startTestSignoff({
    channels: [channel],
    webchat: false,
    file: { operators: operators(CHATS, (i) => `r${i}`) },
  });
  // When each callback job is queued, as Redis reports it (the job itself may be done and gone
  // before we could look it up). Receiving the event adds ~1 ms, so this errs on the slow side.
  const deliveries = new QueueEvents(DELIVERY_QUEUE, { connection: { url: REDIS_URL }, prefix: s.prefix });
  const queuedAt = new Map<string, number>();
  deliveries.on("added", ({ jobId }) => queuedAt.set(jobId, Date.now()));
  await deliveries.waitUntilReady();
  const db = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${s.schema}` });
  await db.connect();
  try {
    const cards: Array<{ id: string; chat: number; code: string }> = [];
    for (let i = 0; i < CHATS * PER_CHAT; i++) {
      const chat = i % CHATS;
      const a = (
        await api(
          s,
          "POST",
          "/api/approvals",
          { title: `reaction ${i}`, gate: "medium", approvers: { roles: [`r${chat}`] }, callbackUrl: receiver.url },
          SOURCE_TOKEN,
        )
      ).body;
      cards.push({ id: a.id, chat: 10_000 + chat, code: a.code });
    }
    const messageOf = (c: { chat: number; code: string }) => fake.sent(c.chat).find((m) => m.text.includes(c.code));
    await eventually(() => cards.every(messageOf), "all cards delivered", 120_000, 100);

    const latencies: number[] = [];
    for (const card of cards) {
      const pushedAt = Date.now();
      fake.userReacts({ chatId: card.chat, messageId: messageOf(card)!.messageId, emoji: "👍" });
      const row = await eventually(
        async () =>
          (await db.query<{ id: string }>("SELECT id::text FROM deliveries WHERE subject_id = $1", [card.id])).rows[0],
        "delivery row",
        10_000,
        1,
      );
      const at = await eventually(() => queuedAt.get(`delivery-${row.id}`), "callback job queued", 10_000, 1);
      latencies.push(at - pushedAt);
      await new Promise((r) => setTimeout(r, 10));
    }
    const metrics = {
      reactions: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
    };
    return {
      name: "tg-reaction",
      metrics,
      targets: { p99Ms: "≤ 20" },
      met: metrics.p99Ms <= 20,
      notes:
        "from the fake queueing the reaction update (the bot holds a long poll) to Redis reporting the callback job added",
    };
  } finally {
    await db.end();
    await deliveries.close();
    await s.close();
    await receiver.close();
    await fake.close();
    await cleanupTestInstance(s.schema, s.prefix);
  }
}
