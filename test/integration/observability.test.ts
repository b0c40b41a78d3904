/**
 * What an operator of signoff sees of it, end to end: a real signoff (PostgreSQL + Redis) on a
 * fake Telegram, its log lines captured at the logger's destination, and `/metrics` scraped
 * before and after approvals are created, decided by a button and by a timeout, called back
 * (delivered and dead-lettered), and one card send is refused with a 429.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import { createLogger } from "../../src/logger.js";
import { type Signoff, startSignoff } from "../../src/main.js";
import { startFakeBotApi, tooManyRequests, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { startCallbackReceiver } from "../helpers/callback-receiver.js";
import { api, cleanupTestInstance, eventually, TEST_OPERATORS, testConfig, uniqueName } from "../helpers/harness.js";
import { hasSample, sampleValue } from "../helpers/prometheus-text.js";

const ADAM = 1001;
// The chat-ops clock, fixed 10 s after a minute starts: adam's every-minute digest is due and sent
// once, by the catch-up at start.
const NOW = new Date("2030-01-07T08:00:10Z");

type Line = Record<string, unknown> & { msg: string; level: number };
const lines: Line[] = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const text of String(chunk).split("\n")) if (text) lines.push(JSON.parse(text) as Line);
    cb();
  },
});
const INFO = 30;
const infoLines = (msg: string, match: Record<string, unknown> = {}) =>
  lines.filter((l) => l.level === INFO && l.msg === msg && Object.entries(match).every(([k, v]) => l[k] === v));

let fake: FakeBotApi;
let s: Signoff;
const schema = uniqueName("obs");
const prefix = uniqueName("qobs");
const silent = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silent;
  },
};

beforeAll(async () => {
  fake = await startFakeBotApi();
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: silent,
    pollingTimeoutSeconds: 1,
  });
  const operators = TEST_OPERATORS.map((o) => (o.name === "adam" ? { ...o, digest: "* * * * *" } : o));
  const config = testConfig({ schema, prefix, webchat: false, file: { operators } });
  s = await startSignoff({
    config,
    logger: createLogger("info", { destination: sink, format: "json" }),
    channels: [channel],
    now: () => NOW,
  });
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
  await cleanupTestInstance(schema, prefix);
});

const scrape = async () => {
  const response = await fetch(`${s.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
};
const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;
const decided = (id: string) =>
  eventually(async () => ((await record(id)).status !== "pending" ? record(id) : null), `decision of ${id}`, 15_000);

describe("log lines and metrics", () => {
  it("every event gets exactly one info line and moves its metric", async () => {
    const good = await startCallbackReceiver(() => 200);
    const bad = await startCallbackReceiver(() => 500);
    try {
      const before = await scrape();
      // The first card sent gets a 429 from the platform, then goes through after retry_after.
      fake.failNext("sendMessage", 1, tooManyRequests(1));

      const byButton = (
        await api(s, "POST", "/api/approvals", { title: "deploy", gate: "medium", callbackUrl: good.url })
      ).body;
      const byTimeout = (
        await api(s, "POST", "/api/approvals", {
          title: "migrate",
          gate: "medium",
          deadlineSeconds: 0.3,
          callbackUrl: bad.url,
        })
      ).body;
      const waiting = (
        await api(s, "POST", "/api/approvals", { title: "later", gate: "hard", preview: "drop table x" })
      ).body;

      const card = await eventually(
        () => fake.sent(ADAM).find((m) => m.text.includes(byButton.code) && m.replyMarkup),
        "deploy card for adam",
        15_000,
      );
      const approve = card.replyMarkup!.inline_keyboard.flat()[0] as { callback_data: string };
      fake.userPressesButton({ chatId: ADAM, messageId: card.messageId, data: approve.callback_data });
      expect(await decided(byButton.id)).toMatchObject({ status: "approved", decidedBy: "adam" });
      expect(await decided(byTimeout.id)).toMatchObject({ status: "rejected", decidedBy: "timeout" });
      await eventually(() => good.successes().length === 1, "callback delivered");
      await eventually(() => infoLines("callback dead-lettered").length === 1, "callback dead-lettered", 15_000);
      await eventually(() => infoLines("channel connected", { channel: "telegram" }).length, "channel connected");

      // Log lines: one per event, with the fields an operator looks for.
      for (const a of [byButton, byTimeout, waiting]) {
        expect(infoLines("approval created", { approvalId: a.id })).toEqual([
          expect.objectContaining({ code: a.code, gate: a.gate, source: "forge" }),
        ]);
      }
      const buttonDecided = infoLines("approval decided", { approvalId: byButton.id });
      expect(buttonDecided).toEqual([
        expect.objectContaining({ code: byButton.code, status: "approved", decidedBy: "adam", how: "telegram" }),
      ]);
      expect(buttonDecided[0]!.latencyMs).toBeGreaterThan(0);
      expect(infoLines("approval decided", { approvalId: byTimeout.id })).toEqual([
        expect.objectContaining({ status: "rejected", decidedBy: "timeout", how: "timeout" }),
      ]);
      expect(infoLines("approval decided", { approvalId: waiting.id })).toEqual([]);
      const deliveredId = String(good.received[0]!.headers["x-signoff-delivery"]);
      expect(infoLines("callback delivered")).toEqual([
        expect.objectContaining({ approvalId: byButton.id, deliveryId: deliveredId, attempts: 1 }),
      ]);
      expect(infoLines("callback dead-lettered")).toEqual([
        expect.objectContaining({ approvalId: byTimeout.id, attempts: 4 }), // the test config's callbackAttempts
      ]);
      expect(infoLines("digest sent", { operator: "adam" })).toHaveLength(1);
      expect(infoLines("channel connected", { channel: "telegram" })).toHaveLength(1);

      // Metrics: every one moved.
      const after = await scrape();
      const moved = (name: string, labels: Record<string, string> = {}) =>
        sampleValue(after, name, labels) - sampleValue(before, name, labels);
      expect(moved("signoff_approvals_created_total", { gate: "medium" })).toBe(2);
      expect(moved("signoff_approvals_created_total", { gate: "hard" })).toBe(1);
      expect(moved("signoff_decisions_total", { status: "approved", decided_by_kind: "operator" })).toBe(1);
      expect(moved("signoff_decisions_total", { status: "rejected", decided_by_kind: "timeout" })).toBe(1);
      expect(moved("signoff_decision_seconds_count")).toBe(2);
      expect(moved("signoff_decision_seconds_sum")).toBeGreaterThan(0);
      expect(moved("signoff_timer_lateness_seconds_count")).toBe(1);
      expect(sampleValue(after, "signoff_pending_approvals")).toBe(1);
      expect(moved("signoff_outbox_sends_total", { channel: "telegram", result: "429" })).toBe(1);
      expect(moved("signoff_outbox_sends_total", { channel: "telegram", result: "ok" })).toBeGreaterThanOrEqual(4);
      expect(moved("signoff_callbacks_total", { result: "delivered" })).toBe(1);
      expect(moved("signoff_callbacks_total", { result: "retried" })).toBe(3);
      expect(moved("signoff_callbacks_total", { result: "dead" })).toBe(1);
      expect(sampleValue(after, "signoff_channel_up", { channel: "telegram" })).toBe(1);
      expect(sampleValue(after, "signoff_dependency_up", { dependency: "postgres" })).toBe(1);
      expect(sampleValue(after, "signoff_dependency_up", { dependency: "redis" })).toBe(1);
      // The hard request's deadline timer waits in Redis.
      expect(sampleValue(after, "signoff_queue_jobs", { queue: "timers", state: "delayed" })).toBeGreaterThanOrEqual(1);
      for (const queue of ["timers", "deliveries", "outbox", "ops"])
        expect(hasSample(after, "signoff_queue_jobs", { queue, state: "waiting" })).toBe(true);
      expect(hasSample(after, "process_cpu_user_seconds_total")).toBe(true);
      expect(after).not.toMatch(/decided_by_kind="adam"/); // operator names never become label values
    } finally {
      await good.close();
      await bad.close();
    }
  }, 30_000);
});
