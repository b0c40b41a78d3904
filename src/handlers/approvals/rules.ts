/**
 * Standing approvals (rules): which requests a "✅ always" may turn into a rule, which later
 * requests a rule covers, and the rule book the approval service consults while creating a request.
 *
 * A rule stands in for its creator's own approval, so it covers a request only when their answer
 * would have decided it: a `medium` request (never `hard`; `low` and `auto` need no one) from the
 * same source with the same `action`, the rule's agent (a rule without one covers every agent of
 * the source), one approval needed, the creator still an operator eligible for it, and not a
 * request made on the creator's own behalf (`requestedBy`) unless it allows self-approval.
 */
import type { Actor, Approval } from "../../domain/approval.js";
import { type StandingRule, ruleDecider } from "../../domain/standing-rule.js";
import type { AuditEntry } from "../../store/audit-store.js";
import type { NewRule, RevokeOutcome, RuleStore } from "../../store/rule-store.js";
import { isEligible, isSelfApproval } from "./approval-machine.js";

/** Why "always" cannot make a rule of this request (nothing is decided then). */
export type RuleRefusal = "hard" | "not_medium" | "no_action" | "quorum";

/** Why "always" on `approval` cannot make a rule, or null when it can. */
export function ruleRefusal(approval: Pick<Approval, "gate" | "action" | "quorum">): RuleRefusal | null {
  if (approval.gate === "hard") return "hard";
  if (approval.gate !== "medium") return "not_medium";
  if (approval.action === null) return "no_action";
  // A rule stands for one approver; a request that needs several is theirs to answer together.
  if (approval.quorum > 1) return "quorum";
  return null;
}

/** Whether `rule` is live at `now`: neither revoked nor expired. */
export function isLive(rule: Pick<StandingRule, "revokedAt" | "expiresAt">, now: Date): boolean {
  return rule.revokedAt === null && rule.expiresAt.getTime() > now.getTime();
}

/**
 * Whether `rule` approves the new request `approval` (see the module comment). `creator` is the
 * rule's creator as configured now; undefined when they are no longer an operator.
 */
export function ruleCovers(rule: StandingRule, approval: Approval, creator: Actor | undefined, now: Date): boolean {
  if (!isLive(rule, now)) return false;
  if (approval.status !== "pending" || approval.effectiveGate !== "medium") return false;
  if (ruleRefusal(approval) !== null) return false;
  if (approval.source !== rule.source || approval.action !== rule.action) return false;
  if (rule.agent !== null && approval.agent !== rule.agent) return false;
  if (!creator || creator.name !== rule.createdBy) return false;
  return isEligible(approval, creator) && !isSelfApproval(approval, creator.name);
}

/** A new request as approved by `rule` at `at`, born decided like `auto`: no card, no timer. */
export function approveByRule(approval: Approval, rule: StandingRule, at: Date): Approval {
  return {
    ...approval,
    status: "approved",
    decidedBy: ruleDecider(rule.id),
    decidedAt: at,
    deadlineAt: null,
  };
}

/** The `rule.used` audit entry of a request a rule approved (written with the request). */
export function ruleUsedEntry(rule: StandingRule, approval: Approval): AuditEntry {
  return {
    actor: ruleDecider(rule.id),
    action: "rule.used",
    subject: ruleDecider(rule.id),
    at: approval.decidedAt ?? approval.createdAt,
    data: {
      approvalId: approval.id,
      code: approval.code,
      source: approval.source,
      action: approval.action,
      agent: approval.agent,
      createdBy: rule.createdBy,
    },
  };
}

/** Injected dependencies of {@link createRuleBook}. */
export interface RuleBookDeps {
  store: Pick<RuleStore, "candidates" | "create" | "recordUse" | "listLive" | "revoke" | "usesBetween">;
  /** Operators by name: a rule acts for its creator only while they are one. */
  operators: { byName(name: string): Actor | undefined };
  /** How long a new rule lasts (`approvals.ruleExpiryDays`). */
  expiryDays: number;
}

const DAY_MS = 86_400_000;

/** The rule book: matching, creating, listing and revoking rules. */
export function createRuleBook(deps: RuleBookDeps) {
  return {
    /** The rule that approves this new request at once, or null (one indexed lookup, none without an action). */
    async covering(approval: Approval, now: Date): Promise<StandingRule | null> {
      if (approval.action === null || approval.effectiveGate !== "medium" || ruleRefusal(approval) !== null)
        return null;
      const candidates = await deps.store.candidates(approval.source, approval.action, approval.agent, now);
      return candidates.find((rule) => ruleCovers(rule, approval, deps.operators.byName(rule.createdBy), now)) ?? null;
    },

    /** Count a use after the request it approved is stored. */
    recordUse: (ruleId: string, at: Date) => deps.store.recordUse(ruleId, at),

    /**
     * The rule `operator`'s "always" on `approval` creates (source, action and the request's
     * agent), audited as `rule.created` (or `rule.renewed` when their live one was extended).
     */
    async createFrom(approval: Approval, operator: Actor, channel: string, at: Date) {
      if (approval.action === null) throw new Error(`approval ${approval.id} has no action`);
      const rule: NewRule = {
        source: approval.source,
        action: approval.action,
        agent: approval.agent,
        createdBy: operator.name,
        createdFrom: approval.id,
        at,
        expiresAt: new Date(at.getTime() + deps.expiryDays * DAY_MS),
      };
      return deps.store.create(rule, (stored, renewed) => [
        {
          actor: operator.name,
          action: renewed ? "rule.renewed" : "rule.created",
          subject: ruleDecider(stored.id),
          at,
          data: {
            source: stored.source,
            action: stored.action,
            agent: stored.agent,
            approvalId: approval.id,
            code: approval.code,
            channel,
            expiresAt: stored.expiresAt.toISOString(),
          },
        },
      ]);
    },

    /** Live rules, oldest first. */
    list: (now: Date) => deps.store.listLive(now),

    /** End a rule, audited as `rule.revoked`. */
    revoke(typedId: string, by: string, channel: string, at: Date): Promise<RevokeOutcome> {
      return deps.store.revoke(typedId, by, at, (rule) => [
        {
          actor: by,
          action: "rule.revoked",
          subject: ruleDecider(rule.id),
          at,
          data: { source: rule.source, action: rule.action, agent: rule.agent, uses: rule.useCount, channel },
        },
      ]);
    },

    /** Requests rules approved in [from, to), per rule. */
    usesBetween: (from: Date, to: Date) => deps.store.usesBetween(from, to),
  };
}

/** The rule book's interface, for injection. */
export type RuleBook = ReturnType<typeof createRuleBook>;
