/**
 * What the operator is told after "✅ always", and how rules read in chat: pure view builders for
 * the `rule-*` templates in `prompts/`, formatted for one reader's timezone.
 */
import type { StandingRule } from "../../domain/standing-rule.js";
import { formatClock } from "../../lib/time-format.js";
import type { AlwaysResult } from "./approval-service.js";

/** A reply to send: its template, fields and the short button toast. */
export interface AlwaysView {
  template: string;
  view: Record<string, unknown>;
  toast: string;
}

/** The fields that describe one rule: id, what it covers, who made it, when it ends and how often it was used. */
export function ruleView(rule: StandingRule, zone: string, now: Date) {
  return {
    rule: rule.id,
    source: rule.source,
    action: rule.action,
    agent: rule.agent,
    by: rule.createdBy,
    expires: formatClock(rule.expiresAt, zone, now),
    lastUsed: rule.lastUsedAt ? formatClock(rule.lastUsedAt, zone, now) : null,
    uses: rule.useCount,
  };
}

const REFUSAL_TOASTS = {
  hard: "Rules can't approve hard requests",
  not_medium: "Rules only cover medium requests",
  no_action: "No action: no rule can cover it",
  quorum: "Needs several approvers: no rule",
} as const;

/**
 * The reply to "✅ always" when it made (or renewed) a rule, was refused, or approved the request
 * but could not save the rule. (Any other outcome is an ordinary answer's reply.)
 */
export function alwaysReply(always: AlwaysResult, zone: string, now: Date): AlwaysView {
  const a = always.outcome === "refused" ? always.approval : always.result.approval;
  if (always.outcome === "refused")
    return {
      template: "rule-refused",
      view: { code: a.code, [always.reason]: true },
      toast: REFUSAL_TOASTS[always.reason],
    };
  if (!always.rule)
    return { template: "rule-refused", view: { code: a.code, not_saved: true }, toast: `✅ Approved ${a.code}` };
  return {
    template: "rule-created",
    view: { code: a.code, title: a.title, ...ruleView(always.rule, zone, now) },
    toast: `✅ Approved ${a.code} · rule ${always.rule.id}`,
  };
}
