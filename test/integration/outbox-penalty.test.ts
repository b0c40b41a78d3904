/**
 * A 429 from the platform books the chat's pause in the shared send calendar (so every process
 * holds back, not just the job that was refused), and the refused message is sent after
 * `retry_after`, once. Runs a real outbox worker on Redis with a recording slot reserver.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ChannelError } from "../../src/domain/channel.js";
import type { OutboxJob } from "../../src/domain/outbox.js";
import type { SlotReserver } from "../../src/jobs/outbox-queue.js";
import { createRedis, deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";
import { REDIS_URL, eventually, uniqueName } from "../helpers/harness.js";
import { startTelegramOutbox } from "../helpers/outbox-worker.js";

const prefix = uniqueName("penalty");
const producer = createRedis(REDIS_URL, { autoPipelining: true });
const workerConnection = createRedis(REDIS_URL);
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close();
  await deleteKeysWithPrefix(producer, prefix);
  await producer.quit();
  await workerConnection.quit();
});

describe("outbox and a 429", () => {
  it("penalises the chat in the shared calendar by retry_after and sends the message once after it", async () => {
    const penalties: Array<{ chat: string; ms: number }> = [];
    const limiter: SlotReserver = {
      reserve: async () => 0,
      penalize: async (chat, ms) => void penalties.push({ chat, ms }),
    };
    const sent: Array<{ text: string; at: number }> = [];
    let refusedAt = 0;
    const perform = async (job: OutboxJob) => {
      if (job.op !== "text") return;
      if (!refusedAt) {
        refusedAt = Date.now();
        throw new ChannelError("Too Many Requests: retry after 1", false, 700);
      }
      sent.push({ text: job.text, at: Date.now() });
    };
    const outbox = startTelegramOutbox({ producer, workerConnection, prefix, perform, limiter, closers });
    await outbox.enqueue({ op: "text", channel: "telegram", chatId: "42", text: "hello" });
    await eventually(() => sent.length === 1, "the refused message sent after retry_after", 10_000);
    expect(penalties).toEqual([{ chat: "telegram:42", ms: 700 }]);
    expect(sent[0]!.at - refusedAt).toBeGreaterThanOrEqual(650);
    await new Promise((r) => setTimeout(r, 300));
    expect(sent).toHaveLength(1);
  });
});
