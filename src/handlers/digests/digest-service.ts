/**
 * Sends digests: on schedule (one BullMQ job scheduler per operator), on start for a digest
 * missed while signoff was down (if at most `graceMs` old), and on demand (`digest`). A
 * scheduled digest is claimed in PostgreSQL per operator and slot before it is queued, so it
 * goes out once however many processes, restarts and retries reach it.
 */
import type { DigestStore } from "../../store/digest-store.js";
import type { Broadcaster } from "../chat/broadcast.js";
import { digestSlotAt, previousSlot } from "./digest-schedule.js";
import type { Answer, OpsQueries } from "../chatops/ops-queries.js";
import type { RuleBook } from "../approvals/rules.js";
import { formatClock } from "../../lib/time-format.js";
import type { Operator, OperatorDirectory } from "../chat/operators.js";

/** Why a scheduled digest was or was not sent. */
export type DigestOutcome = "sent" | "already_sent" | "too_late" | "no_digest" | "unknown_operator" | "unreachable";

/** Injected dependencies of {@link createDigestService}. */
export interface DigestServiceDeps {
  queries: Pick<OpsQueries, "digest">;
  digests: Pick<DigestStore, "claim" | "release">;
  broadcaster: Pick<Broadcaster, "toOperator">;
  directory: Pick<OperatorDirectory, "byName">;
  /** Each operator's digest cron, by name (operators without one are absent). */
  schedules: ReadonlyMap<string, string>;
  graceMs: number;
  now: () => Date;
  logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** Requests standing rules approved in a period: the digest's "approved by rules" section. */
  rules?: Pick<RuleBook, "usesBetween">;
}

const DAY_MS = 86_400_000;
/** A digest never covers more than this (e.g. a monthly cron). */
const MAX_PERIOD_MS = 7 * DAY_MS;

/** Build the digest service; see the module comment. */
export function createDigestService(deps: DigestServiceDeps) {
  /** The digest for [since, now), with what standing rules approved in that time. */
  async function digestOf(operator: Operator, now: Date, since: Date): Promise<Answer> {
    const [answer, uses] = await Promise.all([
      deps.queries.digest(operator, now, since),
      deps.rules ? deps.rules.usesBetween(since, new Date(now.getTime() + 1)) : [],
    ]);
    if (uses.length === 0) return answer;
    const rulesUsed = uses.map((u) => ({
      rule: u.rule.id,
      source: u.rule.source,
      action: u.rule.action,
      agent: u.rule.agent,
      count: u.count,
      codes: u.approvals.map((a) => a.code).join(", "),
      more: u.count > u.approvals.length,
      last: formatClock(u.approvals[0]?.decidedAt ?? now, operator.timezone, now),
    }));
    const total = uses.reduce((n, u) => n + u.count, 0);
    return { ...answer, view: { ...answer.view, quiet: false, rulesUsed, rulesUsedCount: total } };
  }

  async function send(operator: Operator, now: Date, since: Date): Promise<number> {
    const answer = await digestOf(operator, now, since);
    // A digest due in the reader's quiet hours waits until they end.
    return deps.broadcaster.toOperator(operator, answer.template, answer.view, "hold");
  }

  const service = {
    /** The digest due at `now` for one operator (a scheduler job, or catch-up on start). */
    async sendScheduled(name: string, trigger: "schedule" | "catch-up"): Promise<DigestOutcome> {
      const operator = deps.directory.byName(name);
      if (!operator) return "unknown_operator";
      const cron = deps.schedules.get(name);
      if (!cron) return "no_digest";
      const now = deps.now();
      const slot = digestSlotAt(cron, operator.timezone, now);
      if (now.getTime() - slot.getTime() > deps.graceMs) return "too_late";
      if (!(await deps.digests.claim(name, slot, trigger))) return "already_sent";
      const since = new Date(
        Math.max(previousSlot(cron, operator.timezone, slot).getTime(), slot.getTime() - MAX_PERIOD_MS),
      );
      try {
        const chats = await send(operator, now, since);
        deps.logger.info({ operator: name, slot: slot.toISOString(), trigger, chats }, "digest sent");
        return chats > 0 ? "sent" : "unreachable";
      } catch (error) {
        await deps.digests.release(name, slot).catch(() => undefined); // let the retry send it
        throw error;
      }
    },

    /** On start: send every digest whose latest slot passed less than `graceMs` ago and was not sent. */
    async catchUp(): Promise<Record<string, DigestOutcome>> {
      const out: Record<string, DigestOutcome> = {};
      for (const name of deps.schedules.keys()) {
        try {
          out[name] = await service.sendScheduled(name, "catch-up");
        } catch (error) {
          deps.logger.warn({ operator: name, err: (error as Error).message }, "digest catch-up failed");
        }
      }
      return out;
    },

    /** `digest` in chat: the last 24 hours, now, not recorded as a scheduled send. */
    async digestNow(operator: Operator) {
      const now = deps.now();
      return digestOf(operator, now, new Date(now.getTime() - DAY_MS));
    },
  };
  return service;
}

/** The digest service's interface, for injection. */
export type DigestService = ReturnType<typeof createDigestService>;
