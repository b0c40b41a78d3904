/**
 * The outbox's ordering and pacing on the real Redis: per-chat order through 429s, no message
 * lost when a later one stops waiting for it, and duplicate edits that do not stall a chat.
 * `perform` is the worker's injected dependency (the presenter in production); here it records.
 */
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelError } from "../../src/domain/channel.js";
import type { OutboxJob } from "../../src/domain/outbox.js";
import { createChatRateLimiter } from "../../src/jobs/chat-rate-limiter.js";
import { createOutboxQueue } from "../../src/jobs/outbox-queue.js";
import { createRedis, deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { REDIS_URL, eventually, uniqueName } from "../helpers/harness.js";
import { startTelegramOutbox } from "../helpers/outbox-worker.js";

let prefix: string;
let producer: Redis;
let workerConnection: Redis;
let closers: Array<() => Promise<unknown>>;

beforeEach(() => {
  prefix = uniqueName("outbox");
  producer = createRedis(REDIS_URL, { autoPipelining: true });
  workerConnection = createRedis(REDIS_URL);
  closers = [];
});
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  await deleteKeysWithPrefix(producer, prefix);
  await producer.quit();
  await workerConnection.quit();
});

const text = (n: number, chatId = "42"): OutboxJob => ({ op: "text", channel: "telegram", chatId, text: `m${n}` });

function start(perform: (job: OutboxJob) => Promise<void>, patienceMs?: number) {
  const limiter = createChatRateLimiter(producer, {
    prefix: `${prefix}:rate`,
    perChatIntervalMs: 50,
    globalPerSecond: 1000,
  });
  return startTelegramOutbox({
    producer,
    workerConnection,
    prefix,
    perform,
    limiter,
    closers,
    concurrency: 5,
    patienceMs,
  });
}

describe("outbox", () => {
  it("keeps per-chat order through a 429, sending each message once", async () => {
    const sent: string[] = [];
    let limited = false;
    const outbox = start(async (job) => {
      if (job.op !== "text") return;
      if (job.text === "m2" && !limited) {
        limited = true;
        throw new ChannelError("Too Many Requests", false, 300);
      }
      sent.push(job.text);
    });
    for (let i = 1; i <= 6; i++) await outbox.enqueue(text(i));
    await eventually(() => sent.length === 6, "six sends");
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
  });

  it("a message that stops waiting for a failing predecessor does not drop it", async () => {
    const sent: string[] = [];
    let failures = 0;
    const outbox = start(async (job) => {
      if (job.op !== "text") return;
      if (job.text === "m1" && failures < 3) {
        failures++;
        throw new ChannelError("network error", false); // retryable, no retry_after: BullMQ backoff
      }
      sent.push(job.text);
    }, 300);
    await outbox.enqueue(text(1));
    await outbox.enqueue(text(2));
    await outbox.enqueue(text(3));
    await eventually(() => sent.includes("m2") && sent.includes("m3"), "m2 and m3 after patience", 10_000);
    expect(sent).not.toContain("m1"); // m1 is still failing; the others did not wait forever
    await eventually(() => sent.includes("m1"), "m1 once its network recovers", 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent.filter((t) => t === "m1")).toHaveLength(1);
    expect(sent).toHaveLength(3);
  }, 30_000);

  it("a duplicate card edit takes no ticket, so the chat's next message is not stalled", async () => {
    const sent: string[] = [];
    const outbox = start(async (job) => {
      sent.push(job.op === "text" ? job.text : `${job.op}`);
    });
    const edit: OutboxJob = {
      op: "edit",
      approvalId: "a1",
      version: 2,
      ref: { channel: "telegram", chatId: "42", messageId: "7", kind: "card" },
    };
    await outbox.enqueue(edit);
    await outbox.enqueue(edit); // the presenter and a late announce can both ask for the same edit
    await outbox.enqueue(text(9));
    const started = Date.now();
    await eventually(() => sent.includes("m9"), "the message after the duplicate edit", 10_000);
    expect(Date.now() - started).toBeLessThan(5_000); // without the fix it waits the 60 s patience
    expect(sent).toEqual(["edit", "m9"]);
  }, 20_000);

  it("twenty concurrent requests for one card edit from two processes send it once and leave no hole in the chat's line", async () => {
    const sent: string[] = [];
    const outbox = start(async (job) => {
      sent.push(job.op === "text" ? job.text : `${job.op}`);
    });
    const other = createRedis(REDIS_URL, { autoPipelining: true });
    const otherOutbox = createOutboxQueue(other, prefix, new Set(["telegram"]));
    closers.push(
      () => other.quit(),
      () => otherOutbox.queue.close(),
    );
    const edit: OutboxJob = {
      op: "edit",
      approvalId: "a2",
      version: 3,
      ref: { channel: "telegram", chatId: "42", messageId: "8", kind: "card" },
    };
    // Every process that saw the decision refreshes the card at once (presenter, late announce, reconciler).
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? otherOutbox : outbox).enqueue(edit)));
    await outbox.enqueue(text(10));
    const started = Date.now();
    await eventually(() => sent.includes("m10"), "the message after the concurrent edits", 10_000);
    expect(Date.now() - started).toBeLessThan(5_000); // a ticket taken by an ignored duplicate stalls it ≥ 60 s
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toEqual(["edit", "m10"]);
    expect(await producer.get(`${prefix}:outbox-ticket:telegram:42`)).toBe("2"); // no duplicate took a ticket
  }, 20_000);

  it("once a job is queued its id is free again: a later announcement to the chat is not swallowed", async () => {
    const sent: string[] = [];
    const outbox = start(async (job) => {
      sent.push(job.op === "announce" ? job.announcement : job.op);
    });
    const card: OutboxJob = {
      op: "announce",
      approvalId: "a3",
      announcement: "card",
      channel: "telegram",
      chatId: "42",
    };
    await outbox.enqueue(card);
    await eventually(() => sent.length === 1, "the first announcement");
    await outbox.enqueue({ ...card, announcement: "notice" }); // same job id, asked for after the first went out
    await eventually(() => sent.length === 2, "the second announcement", 5_000);
    expect(sent).toEqual(["card", "notice"]);
  }, 15_000);

  it("after a quiet week the chat's line is forgotten as a whole, so the next message goes at once", async () => {
    const sent: string[] = [];
    const outbox = start(async (job) => {
      if (job.op !== "text") return;
      if (job.text === "m2") await new Promise((r) => setTimeout(r, 300)); // its send ends well after it was queued
      sent.push(job.text);
    });
    await outbox.enqueue(text(1));
    await outbox.enqueue(text(2));
    await eventually(() => sent.length === 2, "two sends");
    await new Promise((r) => setTimeout(r, 100));
    // Let time run to the first expiry among the line's keys: every key due then goes.
    const line = ["outbox-ticket", "outbox-done", "outbox-done-set"].map((k) => `${prefix}:${k}:telegram:42`);
    const ttls = await Promise.all(line.map((k) => producer.pttl(k)));
    const first = Math.min(...ttls.filter((t) => t > 0));
    expect(first).toBeGreaterThan(6 * 24 * 3600 * 1000);
    for (const [i, key] of line.entries()) if (ttls[i]! > 0 && ttls[i]! <= first + 100) await producer.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 20));
    await outbox.enqueue(text(3));
    const started = Date.now();
    await eventually(() => sent.includes("m3"), "the first message after the quiet week", 5_000);
    expect(Date.now() - started).toBeLessThan(3_000); // a counter outliving its watermark makes it wait ≥ 60 s
    expect(sent).toEqual(["m1", "m2", "m3"]);
  }, 20_000);
});
