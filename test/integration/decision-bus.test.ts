/**
 * The decision bus against a real Redis: ids published in one turn of the event loop go out as
 * one message, and the long poll waiting for each of them wakes (in this and another process's
 * bus on the same prefix); an id nobody published leaves its waiter to its timeout.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createDecisionBus } from "../../src/jobs/decision-bus.js";
import { REDIS_URL, uniqueName } from "../helpers/harness.js";

const connections: Redis[] = [];
const connect = () => {
  const connection = new Redis(REDIS_URL);
  connections.push(connection);
  return connection;
};
afterAll(async () => {
  for (const c of connections) await c.quit();
});

describe("decision bus", () => {
  it("sends the ids of one turn as one message and wakes each waiter", async () => {
    const prefix = uniqueName("q");
    const here = await createDecisionBus(connect(), connect(), prefix);
    const elsewhere = await createDecisionBus(connect(), connect(), prefix);
    const messages: string[] = [];
    const listener = connect();
    listener.on("message", (_channel: string, message: string) => messages.push(message));
    await listener.subscribe(`${prefix}:decided`);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const unrelated = randomUUID();
    const began = Date.now();
    const woken = ids.map((id) => elsewhere.waitFor(id, 5_000).then(() => Date.now() - began));
    const stillWaiting = elsewhere.waitFor(unrelated, 400).then(() => Date.now() - began);

    await Promise.all(ids.map((id) => here.publish(id)));

    for (const ms of await Promise.all(woken)) expect(ms, "woken by the message, not the timeout").toBeLessThan(2_000);
    expect(await stillWaiting).toBeGreaterThanOrEqual(390);
    expect(messages).toEqual([ids.join(" ")]);
    await here.close();
    await elsewhere.close();
  });
});
