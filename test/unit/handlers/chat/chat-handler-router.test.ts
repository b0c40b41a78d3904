/**
 * Chat text is parsed once and dispatched: answers go to the approval service, `pending` is
 * listed here, everything else reaches the chat-ops handler already parsed, told whether this
 * operator may answer approvals (custom approver roles included).
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { Approval } from "../../../../src/domain/approval.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import type { TextIntentHandler } from "../../../../src/domain/operator.js";
import { createApproval } from "../../../../src/handlers/approvals/approval-machine.js";
import { createChatHandler } from "../../../../src/handlers/chat/chat-handler.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { webchatText } from "../../../helpers/inbound-text.js";

const NOW = new Date("2026-11-22T09:00:00Z");
const OPERATORS = [
  { name: "adam", roles: ["approver"], webchat: true },
  { name: "olga", roles: ["ops-lead"], webchat: true },
  { name: "vic", roles: ["viewer"], webchat: true },
];

function opsLeadRequest(): Approval {
  const ctx = {
    id: "00000000-0000-0000-0000-0000000000aa",
    code: "K7QA",
    source: "forge",
    now: NOW,
    paused: false,
    defaultDeadlineSeconds: 3600,
    defaultObjectionSeconds: 10,
  };
  return createApproval({ title: "failover db", gate: "medium", approvers: { roles: ["ops-lead"] } }, ctx).approval;
}

function harness(pending: Approval[]) {
  const calls: Array<Parameters<TextIntentHandler>[0]> = [];
  const sent: OutboxJob[] = [];
  const handler = createChatHandler({
    service: {
      answer: async () => {
        throw new Error("no answer expected");
      },
      get: async () => null,
      getByCode: async () => null,
      list: async () => pending,
    },
    chat: { claimInbound: async () => true, findCardRef: async () => null },
    directory: createOperatorDirectory(OPERATORS, "UTC", PLATFORMS),
    audit: { append: async () => undefined },
    renderer: createRenderer(PLATFORMS),
    enqueue: async (job) => void sent.push(job),
    intents: async (input) => {
      calls.push(input);
      return input.intent?.kind ?? "not_understood";
    },
    logger: { warn: () => undefined, error: () => undefined },
    now: () => NOW,
  });
  let n = 0;
  const say = (chatId: string, text: string) => handler.handle(webchatText(chatId, text, n++, NOW));
  return { say, calls, sent };
}

describe("one text router", () => {
  it("hands chat-ops the parsed intent (or null), never the raw text to parse again", async () => {
    const h = harness([]);
    await h.say("adam", "how's the queue?");
    await h.say("adam", "kill task T-9");
    await h.say("adam", "blorp");
    expect(h.calls.map((c) => c.intent)).toEqual([{ kind: "queue" }, { kind: "kill", taskId: "T-9" }, null]);
  });

  it("lists pending itself", async () => {
    const h = harness([opsLeadRequest()]);
    await h.say("olga", "pending");
    expect(h.calls).toHaveLength(0);
    expect(h.sent.map((j) => (j.op === "text" ? j.text : "")).join("\n")).toContain("K7QA");
  });

  it.each([
    ["an approver", "adam", [], true],
    ["a custom approver role with a request for it", "olga", [opsLeadRequest()], true],
    ["a custom role with nothing for it", "olga", [], false],
    ["a viewer", "vic", [opsLeadRequest()], false],
  ] as const)("help knows whether %s may answer", async (_label, who, pending, expected) => {
    const h = harness([...pending]);
    await h.say(who, "help");
    expect(h.calls[0]).toMatchObject({ intent: { kind: "help" }, canAnswer: expected });
  });
});
