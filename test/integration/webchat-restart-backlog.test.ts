/**
 * A web chat restarted with more pending cards than it re-posts, on the real PostgreSQL and
 * Redis: it gets back the newest 50, oldest of them first, a second reconcile posts nothing, and
 * an older request it did not get back is still answered by its code.
 */
import { afterAll, describe, expect, it } from "vitest";
import { REPOSTS_PER_CHAT } from "../../src/jobs/lost-cards.js";
import type { Signoff } from "../../src/main.js";
import { createChatStore } from "../../src/store/chat-store.js";
import { cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";
import { reconcileAgain } from "../helpers/reconcile-again.js";

const PENDING = REPOSTS_PER_CHAT + 3;

const toClean: Array<[string, string]> = [];
afterAll(async () => {
  for (const [schema, prefix] of toClean) await cleanupTestInstance(schema, prefix);
});

/** Codes of the cards (messages with buttons) in a chat, top to bottom. */
const cardCodes = (s: Signoff, chat: string, codes: ReadonlySet<string>) =>
  s
    .webchat!.history(chat)
    .filter((m) => m.from === "bot" && m.buttons.length > 0)
    .map((m) => [...codes].find((c) => m.text.includes(c)));

describe("a restarted web chat with a backlog", () => {
  it("gets the newest cards back, and an older request is still answered by its code", async () => {
    const first = await startTestSignoff();
    toClean.push([first.schema, first.prefix]);
    // One after another; only adam (owner) gets cards. Two made in the same millisecond are as new
    // as each other, and the id orders them (as the reconcile does).
    const made: Array<{ code: string; id: string; at: number }> = [];
    for (let i = 0; i < PENDING; i++) {
      const { approval } = await first.service.create("forge", {
        title: `deploy ${i}`,
        gate: "medium",
        deadlineSeconds: 3600,
        remind: false,
        approvers: { roles: ["owner"] },
      });
      made.push({ code: approval.code, id: approval.id, at: approval.createdAt.getTime() });
    }
    made.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const codes = made.map((m) => m.code);
    const ids = made.map((m) => m.id);
    const chat = createChatStore(first.db);
    await eventually(
      async () => (await Promise.all(ids.map((id) => chat.listCardRefs(id)))).every((refs) => refs.length > 0),
      "every card's reference saved",
    );
    await first.close();

    const second = await startTestSignoff({ schema: first.schema, prefix: first.prefix });
    try {
      expect(await second.reconcileReport).toMatchObject({
        pendingApprovals: PENDING,
        reposted: REPOSTS_PER_CHAT,
        summarised: 1,
      });
      const all = new Set(codes);
      await eventually(() => cardCodes(second, "adam", all).length === REPOSTS_PER_CHAT, "the newest cards again");
      expect(cardCodes(second, "adam", all)).toEqual(codes.slice(-REPOSTS_PER_CHAT));
      // One line stands for the rest.
      const more = `${PENDING - REPOSTS_PER_CHAT} more pending`;
      await eventually(() => second.webchat!.history("adam").some((m) => m.text.includes(more)), "the summary line");

      // The periodic reconcile finds the chat caught up: nothing more is posted.
      const report = await reconcileAgain(second);
      expect(report).toMatchObject({ reposted: 0, reannounced: 0 });
      await new Promise((r) => setTimeout(r, 200));
      expect(cardCodes(second, "adam", all)).toHaveLength(REPOSTS_PER_CHAT);

      // The oldest request has no card in this run, and its code still decides it.
      const sent = await second.webchat!.operatorSays("adam", `approve ${codes[0]}`);
      await eventually(
        () => second.webchat!.history("adam").find((m) => m.replyTo === sent.id && m.text.includes(codes[0]!)),
        "the confirmation",
      );
      expect((await second.service.get(ids[0]!))!.status).toBe("approved");
    } finally {
      await second.close();
    }
  });
});
