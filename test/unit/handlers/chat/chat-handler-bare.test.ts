/**
 * Bare answers are the loosest form: a ✅ or "yes" that names no request. They decide only when
 * exactly one request waits for the operator, never a hard one, and a reply counts as an answer
 * only on that request's own card or notice.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { Approval, Gate } from "../../../../src/domain/approval.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { createChatHandler, type ChatHandlerDeps } from "../../../../src/handlers/chat/chat-handler.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import {
  type RecordedAnswer,
  numberedRequest,
  quietDeps,
  recordingService,
} from "../../../helpers/chat-handler-fakes.js";
import { webchatText } from "../../../helpers/inbound-text.js";

const NOW = new Date("2026-11-22T09:00:00Z");

const request = (gate: Gate, n: number) => numberedRequest(gate, n, NOW);

function harness(pending: Approval[], cards: Record<string, string> = {}) {
  const answers: RecordedAnswer[] = [];
  const sent: OutboxJob[] = [];
  const service = recordingService(pending, answers, NOW);
  const chat: ChatHandlerDeps["chat"] = {
    claimInbound: async () => true,
    findCardRef: async (ref) =>
      cards[ref.messageId] ? { ...ref, approvalId: cards[ref.messageId]!, kind: "card" as const } : null,
  };
  const handler = createChatHandler({
    service,
    chat,
    directory: createOperatorDirectory(
      [{ name: "adam", roles: ["owner", "approver"], webchat: true }],
      "UTC",
      PLATFORMS,
    ),
    ...quietDeps(sent),
    now: () => NOW,
    cardLookupRetryMs: [1],
  });
  let n = 0;
  const say = (text: string, replyToMessageId?: string) =>
    handler.handle(webchatText("adam", text, n++, NOW, replyToMessageId));
  const replies = () => sent.map((j) => (j.op === "text" ? j.text : ""));
  return { say, answers, replies };
}

describe("bare answers", () => {
  it.each(["✅", "yes", "👍 go ahead", "approve"])(
    "%s never decides the only pending request when it is hard",
    async (text) => {
      const h = harness([request("hard", 1)]);
      await h.say(text);
      expect(h.answers).toEqual([]);
      expect(h.replies().join("\n")).toMatch(/K7QB.*hard request.*approve K7QB/s);
    },
  );

  it("a ✅ replied to a message that is not a card (the failures report) is bare text: no hard decision", async () => {
    const h = harness([request("hard", 1)], { card9: "00000000-0000-0000-0000-000000000001" });
    await h.say("✅", "failures-report-17");
    expect(h.answers).toEqual([]);
  });

  it("on the hard request's own card, a ✅ reply decides it", async () => {
    const h = harness([request("hard", 1)], { card9: "00000000-0000-0000-0000-000000000001" });
    await h.say("✅", "card9");
    expect(h.answers).toEqual([{ approvalId: "00000000-0000-0000-0000-000000000001", verdict: "approve" }]);
  });

  it("its code decides a hard request", async () => {
    const h = harness([request("hard", 1)]);
    await h.say("approve K7QB");
    expect(h.answers).toHaveLength(1);
  });

  it("decides the one pending medium request, also from a reply to another message", async () => {
    const h = harness([request("medium", 2)]);
    await h.say("✅", "status-report-3");
    expect(h.answers).toEqual([{ approvalId: "00000000-0000-0000-0000-000000000002", verdict: "approve" }]);
  });

  it("with two waiting (one hard), asks which one and decides nothing", async () => {
    const h = harness([request("hard", 1), request("medium", 2)]);
    await h.say("yes");
    expect(h.answers).toEqual([]);
    expect(h.replies().join("\n")).toMatch(/Several requests/);
  });
});
