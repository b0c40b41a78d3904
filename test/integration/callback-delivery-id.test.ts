/**
 * Every webhook names its delivery in `X-Signoff-Delivery`: the same id on each retry of one
 * delivery (so a receiver can drop repeats), a different id for another delivery, for approval
 * callbacks and for commands to sources alike.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedBySignoff } from "../helpers/callback-receiver.js";
import { startScriptedReceiver } from "../helpers/scripted-receiver.js";
import { SOURCE_TOKEN, api, cleanupTestInstance, eventually } from "../helpers/harness.js";
import { type OpsSignoff, ask, startOpsSignoff } from "./chatops-harness.js";

let s: OpsSignoff;
let commandHooks: Awaited<ReturnType<typeof startScriptedReceiver>>;

beforeAll(async () => {
  commandHooks = await startScriptedReceiver((n) => (n <= 2 ? 503 : 200));
  s = await startOpsSignoff({
    file: {
      sources: [
        {
          name: "forge",
          tokenSha256: createHash("sha256").update(SOURCE_TOKEN).digest("hex"),
          commandUrl: commandHooks.url,
        },
      ],
    },
  });
});
afterAll(async () => {
  await s?.close();
  if (s) await cleanupTestInstance(s.schema, s.prefix);
  await commandHooks?.close();
});

const deliveryIds = (requests: Array<{ headers: Record<string, unknown> }>) =>
  requests.map((r) => r.headers["x-signoff-delivery"]);

describe("X-Signoff-Delivery", () => {
  it("a callback failing twice then succeeding carries the same delivery id three times; another approval gets another id", async () => {
    const receiver = await startScriptedReceiver((n) => (n <= 2 ? 500 : 200));
    try {
      const first = (
        await api(s, "POST", "/api/approvals", { title: "callback id", gate: "auto", callbackUrl: receiver.url })
      ).body;
      await eventually(() => receiver.successes().length === 1, "first callback delivered");
      const delivery = await eventually(
        async () => (await s.deliveries.listBySubject(first.id)).find((d) => d.status === "delivered"),
        "marked delivered",
      );
      expect(delivery).toMatchObject({ status: "delivered", attempts: 3 });
      expect(receiver.received.map((r) => r.reply)).toEqual([500, 500, 200]);
      expect(deliveryIds(receiver.received)).toEqual([delivery!.id, delivery!.id, delivery!.id]);
      for (const r of receiver.received) expect(signedBySignoff(r)).toBe(true);

      const second = (
        await api(s, "POST", "/api/approvals", { title: "callback id 2", gate: "auto", callbackUrl: receiver.url })
      ).body;
      await eventually(() => receiver.successes().length === 2, "second callback delivered");
      const secondRequest = receiver.received.find((r) => JSON.parse(r.body).id === second.id)!;
      const [secondDelivery] = await s.deliveries.listBySubject(second.id);
      expect(secondDelivery).toBeDefined();
      expect(secondRequest.headers["x-signoff-delivery"]).toBe(secondDelivery!.id);
      expect(secondDelivery!.id).not.toBe(delivery!.id);
    } finally {
      await receiver.close();
    }
  });

  it("a command webhook to a source carries its delivery id, unchanged across retries", async () => {
    await api(s, "POST", "/api/tasks", { id: "D-1", title: "Crawl", state: "in-progress", agent: "forge" });
    expect(await ask(s, "adam", "kill task D-1")).toContain("Killed D-1");
    await eventually(() => commandHooks.successes().length === 1, "command delivered");
    const commandId = JSON.parse(commandHooks.received[0]!.body).id as string;
    const delivery = await eventually(
      async () => (await s.deliveries.listBySubject(commandId)).find((d) => d.status === "delivered"),
      "command marked delivered",
    );
    expect(delivery).toMatchObject({ kind: "command", status: "delivered", attempts: 3 });
    expect(deliveryIds(commandHooks.received)).toEqual([delivery!.id, delivery!.id, delivery!.id]);
  });
});
