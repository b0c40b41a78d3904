/**
 * A chat's send line when Redis loses its keys while a message is being sent: finishing that send
 * must not bring back a handled ticket 1, or the chat's next message (whose ticket starts again
 * at 1) would be taken for one already sent and dropped.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { withOutboxCommands } from "../../src/jobs/outbox-queue.js";
import { REDIS_URL, uniqueName } from "../helpers/harness.js";

const redis = new Redis(REDIS_URL);
afterAll(async () => {
  await redis.quit();
});

describe("outbox mark-done after a key loss", () => {
  it("records nothing for a chat whose line was lost, and still records a live one", async () => {
    const prefix = uniqueName("q");
    const keys = (chat: string) =>
      [`${prefix}:done:${chat}`, `${prefix}:done-set:${chat}`, `${prefix}:ticket:${chat}`] as const;
    const scripts = withOutboxCommands(redis);
    const [lostMark, lostSet, lostCounter] = keys("lost");
    const [liveMark, liveSet, liveCounter] = keys("live");
    // Ticket 1 was taken in both chats; then the lost chat's keys vanished mid-send.
    await redis.set(lostCounter, 1);
    await redis.set(liveCounter, 1);
    await redis.del(lostCounter);

    await scripts.signoffOutboxMarkDone(lostMark, lostSet, lostCounter, 1, "0", 60);
    await scripts.signoffOutboxMarkDone(liveMark, liveSet, liveCounter, 1, "0", 60);

    expect(await redis.exists(lostMark, lostSet)).toBe(0);
    expect(await redis.sismember(liveSet, "1")).toBe(1);
    expect(await redis.get(liveMark)).toBe("1");
    await redis.del(liveMark, liveSet, liveCounter);
  });

  it("starts a lost line afresh: what was left of it cannot pass a new message for one already sent", async () => {
    const prefix = uniqueName("q");
    const [mark, handled, counter] = [`${prefix}:done:c`, `${prefix}:done-set:c`, `${prefix}:ticket:c`];
    const scripts = withOutboxCommands(redis);
    // Left behind by a send that finished while the keys were being deleted: no counter.
    await redis.set(mark, 1);
    await redis.sadd(handled, "1");

    const ticket = await scripts.signoffOutboxEnqueue(3, counter, mark, handled, 60);

    expect(ticket).toBe(1);
    expect(await redis.exists(mark, handled)).toBe(0);
    await redis.del(counter);
  });
});
