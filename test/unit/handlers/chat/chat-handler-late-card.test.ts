/**
 * A card is on the operator's screen a moment before it is on record. An answer given in that
 * moment looks for the card again for a short while instead of being taken for an answer to some
 * other message: a reply before it goes on, a reaction behind the chat's next messages (a 👍 on
 * any other message is common). Text that is not an answer, or names its code, looks once.
 */
import { describe, expect, it, vi } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { MessageRef } from "../../../../src/domain/channel.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { createChatHandler } from "../../../../src/handlers/chat/chat-handler.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import {
  type RecordedAnswer,
  numberedRequest,
  quietDeps,
  recordingService,
} from "../../../helpers/chat-handler-fakes.js";
import { webchatText } from "../../../helpers/inbound-text.js";

const NOW = new Date("2026-11-22T09:00:00Z");

const request = (n: number) => numberedRequest("medium", n, NOW);

/** Two requests wait (so a bare answer decides nothing); card9 shows the first after `recordedAfter` lookups. */
function harness(recordedAfter: number, retryMs: readonly number[] | undefined = [1, 1, 1]) {
  const pending = [request(1), request(2)];
  const answers: RecordedAnswer[] = [];
  const lookups: string[] = [];
  const sent: OutboxJob[] = [];
  const service = recordingService(pending, answers, NOW);
  const findCardRef = async (ref: MessageRef) => {
    lookups.push(ref.messageId);
    const recorded = ref.messageId === "card9" && lookups.length > recordedAfter;
    return recorded ? { ...ref, approvalId: pending[0]!.id, kind: "card" as const } : null;
  };
  const handler = createChatHandler({
    service,
    chat: { claimInbound: async () => true, findCardRef },
    directory: createOperatorDirectory([{ name: "adam", roles: ["approver"], webchat: true }], "UTC", PLATFORMS),
    ...quietDeps(sent),
    now: () => NOW,
    ...(retryMs ? { cardLookupRetryMs: retryMs } : {}),
  });
  let n = 0;
  const say = (text: string, replyTo: string) => handler.handle(webchatText("adam", text, n++, NOW, replyTo));
  const react = (messageId: string, emoji: string) =>
    handler.handle({
      kind: "reaction",
      channel: "webchat",
      chatId: "adam",
      sender: { id: "adam" },
      eventId: `r${n++}`,
      receivedAt: NOW,
      messageId,
      emoji,
    });
  const replies = () => sent.map((j) => (j.op === "text" ? j.text : ""));
  return { say, react, answers, lookups, replies };
}

describe("an answer that beats its card's record", () => {
  it("a reply found on the third look decides that card's request", async () => {
    const h = harness(2);
    await h.say("✅", "card9");
    expect(h.answers).toEqual([{ approvalId: "00000000-0000-0000-0000-000000000001", verdict: "approve" }]);
    expect(h.lookups).toEqual(["card9", "card9", "card9"]);
  });

  it("a reaction found on a later look decides too, without holding up the chat meanwhile", async () => {
    const h = harness(3, [20, 20, 20]);
    await h.react("card9", "👎");
    expect(h.lookups, "the reaction is handled after one look").toHaveLength(1);
    expect(h.answers).toEqual([]);
    await vi.waitFor(() =>
      expect(h.answers).toEqual([{ approvalId: "00000000-0000-0000-0000-000000000001", verdict: "reject" }]),
    );
    expect(h.lookups).toHaveLength(4);
  });

  it("a reaction on a message that is no card decides nothing, after its last look", async () => {
    const h = harness(99);
    await h.react("card9", "👍");
    await vi.waitFor(() => expect(h.lookups).toHaveLength(4));
    await new Promise((r) => setTimeout(r, 20));
    expect(h.answers).toEqual([]);
  });

  it("by default an answer looks again too", async () => {
    const h = harness(1, undefined);
    await h.say("❌", "card9");
    expect(h.answers).toEqual([{ approvalId: "00000000-0000-0000-0000-000000000001", verdict: "reject" }]);
  });

  it("a verdict that names its code looks once and goes by the code", async () => {
    const h = harness(99);
    await h.say("approve K7QC", "card9");
    expect(h.lookups).toEqual(["card9"]);
    expect(h.answers).toEqual([{ approvalId: "00000000-0000-0000-0000-000000000002", verdict: "approve" }]);
  });

  it("after the last look it is an answer to a message that is not a card: it asks which one", async () => {
    const h = harness(99);
    await h.say("✅", "card9");
    expect(h.answers).toEqual([]);
    expect(h.lookups).toHaveLength(4);
    expect(h.replies().join("\n")).toMatch(/say which one/);
  });

  it("text that is not an answer looks once", async () => {
    const h = harness(99);
    await h.say("how's the queue?", "card9");
    expect(h.lookups).toEqual(["card9"]);
  });

  it("the looks are paced by the pauses given", async () => {
    const h = harness(99, [30, 30]);
    const started = performance.now();
    await h.say("✅", "card9");
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(h.lookups).toHaveLength(3);
  });
});
