/**
 * Standing approvals: an approver's "✅ always" on a `medium` card that names an `action` turns
 * into a rule, and later matching requests are approved at once (`decidedBy: "rule:<id>"`).
 * Types only; the matching rules live in `src/handlers/approvals/rules.ts`.
 */

/** A standing approval as stored and listed. */
export interface StandingRule {
  /** Typeable id as shown in chat, e.g. `R12` (the `R` and a serial). */
  id: string;
  /** The source whose requests it covers (a rule never crosses sources). */
  source: string;
  /** The request `action` it covers, e.g. `deploy:staging`. */
  action: string;
  /** Only this agent's requests; null covers every agent of the source. */
  agent: string | null;
  /** The operator who said "always": the rule stands in for their approval. */
  createdBy: string;
  /** The request whose "✅ always" made it (or last renewed it). */
  createdFrom: string | null;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  useCount: number;
  revokedAt: Date | null;
  revokedBy: string | null;
}

/** Prefix of `decidedBy` for requests a rule approved: `rule:R12`. */
export const RULE_DECIDER_PREFIX = "rule:";

/** `R12` → `rule:R12`, the `decidedBy` of what the rule approves. */
export const ruleDecider = (ruleId: string) => `${RULE_DECIDER_PREFIX}${ruleId}`;

/**
 * The rule id a `decidedBy` names (`rule:R12` → `R12`), else null. Operator names cannot hold a
 * colon, so only a rule's decision reads as one.
 */
export function ruleIdOfDecider(decidedBy: string | null): string | null {
  return decidedBy?.startsWith(RULE_DECIDER_PREFIX) ? decidedBy.slice(RULE_DECIDER_PREFIX.length) : null;
}

/** Serial of a rule id as typed: `R12`, `r12`, `#12` or `12` → 12; null for anything else. */
export function parseRuleId(typed: string): number | null {
  const m = /^(?:#|r)?(\d{1,12})$/i.exec(typed.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The id shown for serial `n`: `R12`. */
export const formatRuleId = (n: number | string) => `R${n}`;
