/**
 * The web chat keeps its messages in memory, so a restart loses them. On the real PostgreSQL
 * and Redis: the pending card is posted again, message ids of the new run never repeat the old
 * ones, answering edits only the card, and reconciling again does not post it twice.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { createChatStore } from "../../src/store/chat-store.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";
import { reconcileAgain } from "../helpers/reconcile-again.js";

const toClean: Array<[string, string]> = [];
afterAll(async () => {
  for (const [schema, prefix] of toClean) await cleanupTestInstance(schema, prefix);
});

/** Say something in a chat and wait for the bot's answer to it. */
async function say(s: Signoff, chat: string, text: string) {
  const sent = await s.webchat!.operatorSays(chat, text);
  await eventually(
    () => s.webchat!.history(chat).find((m) => m.from === "bot" && m.replyTo === sent.id),
    `answer to ${JSON.stringify(text)}`,
  );
  return sent;
}

const cardIn = (s: Signoff, chat: string, code: string) =>
  eventually(
    () => s.webchat!.history(chat).find((m) => m.from === "bot" && m.text.includes(code) && m.buttons.length > 0),
    `card ${code} in ${chat}'s chat`,
  );

describe("web chat across a restart", () => {
  it("posts the pending card again with fresh ids; approving edits only that card; a second reconcile posts nothing", async () => {
    const first = await startTestSignoff();
    toClean.push([first.schema, first.prefix]);
    // Chat before the card, so that old ids of the card and of these messages reach past the
    // first few ids of the next run (where a restarted counter would land on them).
    await say(first, "adam", "status");
    const a = (
      await api(first, "POST", "/api/approvals", {
        title: "Deploy api v2.3",
        gate: "medium",
        approvers: { roles: ["owner"] },
      })
    ).body;
    expect(a.status).toBe("pending");
    const oldCard = await cardIn(first, "adam", a.code);
    await eventually(
      async () => (await createChatStore(first.db).listCardRefs(a.id)).some((r) => r.messageId === oldCard.id),
      "the card's reference saved",
    );
    const oldIds = first.webchat!.history("adam").map((m) => m.id);
    await first.close();

    const second = await startTestSignoff({ schema: first.schema, prefix: first.prefix });
    try {
      expect(await second.reconcileReport).toMatchObject({ pendingApprovals: 1, reannounced: 0, reposted: 1 });
      const card = await cardIn(second, "adam", a.code);
      expect(card.buttons.map((b) => b.label)).toEqual(["✅ Approve", "❌ Reject", "📝 Modify"]);
      const refs = createChatStore(second.db);
      await eventually(
        async () => (await refs.listCardRefs(a.id)).some((r) => r.messageId === card.id),
        "the new card's reference saved",
      );

      // Reconciling again (every few minutes) leaves the new card alone.
      expect(await reconcileAgain(second)).toMatchObject({ pendingApprovals: 1, reannounced: 0, reposted: 0 });
      await new Promise((r) => setTimeout(r, 200));
      expect(second.webchat!.history("adam").filter((m) => m.text.includes(a.code))).toHaveLength(1);

      await say(second, "adam", "status");
      await say(second, "adam", "pending");
      const newIds = second.webchat!.history("adam").map((m) => m.id);
      expect(newIds.filter((id) => oldIds.includes(id))).toEqual([]);
      for (const id of newIds) expect(id.length).toBeLessThanOrEqual(40);

      const before = new Map(second.webchat!.history("adam").map((m) => [m.id, m.text]));
      const answer = await say(second, "adam", `approve ${a.code}`);
      await eventually(
        () => second.webchat!.history("adam").find((m) => m.id === card.id && m.text.includes("Approved")),
        "the card shows the outcome",
      );
      expect((await second.service.get(a.id))!.status).toBe("approved");
      await new Promise((r) => setTimeout(r, 200));
      // Every other message reads as it did; the operator's own words are untouched.
      const after = second.webchat!.history("adam");
      for (const m of after) {
        if (m.id === card.id) continue;
        if (before.has(m.id)) expect(m.text, `message ${m.id}`).toBe(before.get(m.id));
      }
      expect(after.find((m) => m.id === answer.id)!.text).toBe(`approve ${a.code}`);
      expect(
        after.filter(
          (m) => m.text.includes("Approved") && m.buttons.length === 0 && m.id !== card.id && m.replyTo !== answer.id,
        ),
      ).toEqual([]);
      expect(await reconcileAgain(second)).toMatchObject({ pendingApprovals: 0, reannounced: 0, reposted: 0 });
    } finally {
      await second.close();
    }
  });

  it("an open page hears that signoff is going, and after the restart loads only the new run's messages", async () => {
    const first = await startTestSignoff();
    toClean.push([first.schema, first.prefix]);
    const stream = await fetch(`${first.url}/chat/api/adam/events`);
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let heard = "";
    const listening = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        heard += value;
      }
    })();
    await say(first, "adam", "status");
    const a = (
      await api(first, "POST", "/api/approvals", {
        title: "Rotate keys",
        gate: "medium",
        approvers: { roles: ["owner"] },
      })
    ).body;
    await cardIn(first, "adam", a.code);
    const oldIds = first.webchat!.history("adam").map((m) => m.id);
    await eventually(() => heard.includes(a.code), "the card on the open stream");
    await first.close();
    await listening; // the stream ended: the page's EventSource reconnects
    expect(heard).toMatch(/^retry: \d+\n\n/);
    expect(heard).toMatch(/event: bye\n/);

    const second = await startTestSignoff({ schema: first.schema, prefix: first.prefix });
    try {
      await cardIn(second, "adam", a.code);
      const { messages } = (await fetch(`${second.url}/chat/api/adam/messages`).then((r) => r.json())) as {
        messages: Array<{ id: string; text: string }>;
      };
      expect(messages.map((m) => m.id).filter((id) => oldIds.includes(id))).toEqual([]);
      expect(messages.filter((m) => m.text.includes(a.code))).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
