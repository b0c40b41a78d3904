/**
 * `pending` answers in one bounded message however long the backlog: the newest 20 of the
 * operator's requests and how many more there are (with "+" when it read as many as it reads).
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { createChatHandler, type ChatHandlerDeps } from "../../../../src/handlers/chat/chat-handler.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { approvalFixture } from "../../../helpers/approval-fixture.js";
import { webchatText } from "../../../helpers/inbound-text.js";

const NOW = new Date("2030-01-01T00:00:00Z");

/** `count` pending requests, newest first (as the store lists them); what `pending` answers to them. */
async function answerTo(count: number) {
  const pending = Array.from({ length: count }, (_, i) =>
    approvalFixture({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      code: `Q${i}`,
      title: `deploy ${i}`,
    }),
  );
  const reads: number[] = [];
  const sent: OutboxJob[] = [];
  const service: ChatHandlerDeps["service"] = {
    answer: async () => {
      throw new Error("pending decides nothing");
    },
    get: async () => null,
    getByCode: async () => null,
    list: async (options) => {
      reads.push(options?.limit ?? Infinity);
      return pending.slice(0, options?.limit ?? 100);
    },
  };
  const handler = createChatHandler({
    service,
    chat: { claimInbound: async () => true, findCardRef: async () => null },
    directory: createOperatorDirectory(
      [{ name: "adam", roles: ["owner", "approver"], webchat: true }],
      "UTC",
      PLATFORMS,
    ),
    audit: { append: async () => undefined },
    renderer: createRenderer(PLATFORMS),
    enqueue: async (job) => void sent.push(job),
    intents: async () => "not_understood",
    logger: { warn: () => undefined, error: () => undefined },
    now: () => NOW,
  });
  await handler.handle(webchatText("adam", "pending", 0, NOW));
  const texts = sent.flatMap((j) => (j.op === "text" ? [j.text] : []));
  expect(texts).toHaveLength(1);
  return { text: texts[0]!, lines: texts[0]!.split("\n"), reads };
}

describe("pending with a backlog", () => {
  it("lists the newest 20 of 100,000 and says there are more than it read", async () => {
    const { text, lines, reads } = await answerTo(100_000);
    expect(reads.every((limit) => limit <= 1_000)).toBe(true);
    expect(lines[0]).toBe("Pending (1,000+)");
    expect(lines.filter((l) => l.startsWith("•"))).toHaveLength(20);
    expect(lines[1]).toContain("Q0 deploy 0");
    expect(text).not.toContain("Q20 ");
    expect(lines.at(-1)).toBe("…and 980+ more: answer any by its code.");
  });

  it("counts exactly when it read them all", async () => {
    const { lines } = await answerTo(30);
    expect(lines[0]).toBe("Pending (30)");
    expect(lines.filter((l) => l.startsWith("•"))).toHaveLength(20);
    expect(lines.at(-1)).toBe("…and 10 more: answer any by its code.");
  });

  it("lists a short queue whole, with no line for more", async () => {
    const { lines } = await answerTo(3);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe("Pending (3)");
  });
});
