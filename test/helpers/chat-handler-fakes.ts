/**
 * Small fakes for chat handler tests: numbered pending requests, an approval service that
 * records each answer and reports it decided, and the quiet remainder of the handler's
 * dependencies (replies collected in `sent`).
 */
import { PLATFORMS } from "../../src/bot/platforms.js";
import type { Approval, Gate } from "../../src/domain/approval.js";
import type { OutboxJob } from "../../src/domain/outbox.js";
import { createApproval } from "../../src/handlers/approvals/approval-machine.js";
import type { ChatHandlerDeps } from "../../src/handlers/chat/chat-handler.js";
import { createRenderer } from "../../src/handlers/chat/render.js";

/**
 * Pending request number `n` (1–5) made at `now`: id `…0000n`, code `K7Q` + "ABCDEF"[n]; a hard
 * one previews a `DROP TABLE`.
 */
export function numberedRequest(gate: Gate, n: number, now: Date): Approval {
  const input =
    gate === "hard"
      ? { title: `drop table t${n}`, gate, preview: `DROP TABLE t${n};` }
      : { title: `deploy ${n}`, gate };
  const ctx = {
    id: `00000000-0000-0000-0000-00000000000${n}`,
    code: `K7Q${"ABCDEF"[n]}`,
    source: "forge",
    now,
    paused: false,
    defaultDeadlineSeconds: 3600,
    defaultObjectionSeconds: 10,
  };
  return createApproval(input, ctx).approval;
}

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
