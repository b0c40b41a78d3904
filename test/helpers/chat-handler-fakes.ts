/**
 * Small fakes for chat handler tests: an approval service that records each answer and reports
 * it decided, and the quiet remainder of the handler's dependencies (replies collected in `sent`).
 */
import { PLATFORMS } from "../../src/bot/platforms.js";
import type { Approval } from "../../src/domain/approval.js";
import type { OutboxJob } from "../../src/domain/outbox.js";
import type { ChatHandlerDeps } from "../../src/handlers/chat/chat-handler.js";
import { createRenderer } from "../../src/handlers/chat/render.js";

/** One recorded answer. */
export interface RecordedAnswer {
  approvalId: string;
  verdict: string;
}

/** A service over `pending` that pushes every answer to `answers` and approves it at `at`. */
export function recordingService(pending: Approval[], answers: RecordedAnswer[], at: Date): ChatHandlerDeps["service"] {
  return {
    async answer(input) {
      answers.push({ approvalId: input.approvalId, verdict: input.verdict });
      const a = pending.find((p) => p.id === input.approvalId)!;
      return {
        outcome: "decided",
        approval: { ...a, status: "approved", decidedBy: input.operator.name, decidedAt: at },
        decision: null,
      };
    },
    get: async (id) => pending.find((p) => p.id === id) ?? null,
    getByCode: async (code) => pending.find((p) => p.code === code) ?? null,
    list: async () => pending,
  };
}

/** Audit, renderer, outbox (into `sent`), intents and logger that do nothing else. */
export function quietDeps(sent: OutboxJob[]) {
  return {
    audit: { append: async () => undefined },
    renderer: createRenderer(PLATFORMS),
    enqueue: async (job: OutboxJob) => void sent.push(job),
    intents: async () => "not_understood" as const,
    logger: { warn: () => undefined, error: () => undefined },
  } satisfies Partial<ChatHandlerDeps>;
}
