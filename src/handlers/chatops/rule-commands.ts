/**
 * The chat side of standing approvals: `rules` lists the live ones (open to every operator, like
 * every query) and `revoke rule R12` ends one (owners and approvers: the roles that may make one).
 * Put in front of the other chat-ops intents, so the rest of the text routing is unchanged.
 */
import { DEFAULT_APPROVER_ROLES } from "../../domain/approval.js";
import type { InboundText } from "../../domain/channel.js";
import type { TextIntentHandler } from "../../domain/operator.js";
import type { EnqueueOutbox } from "../../domain/outbox.js";
import { formatRuleId, parseRuleId } from "../../domain/standing-rule.js";
import { formatClock } from "../../lib/time-format.js";
import type { AuditStore } from "../../store/audit-store.js";
import type { SettingsStore } from "../../store/settings-store.js";
import { ruleView } from "../approvals/rule-replies.js";
import type { RuleBook } from "../approvals/rules.js";
import type { Operator } from "../chat/operators.js";
import type { Renderer } from "../chat/render.js";
import { createReply } from "../chat/reply.js";

/** A rule command as typed. `id` is null when `revoke rule` named none (or not a rule id). */
export type RuleCommand = { kind: "rules" } | { kind: "revoke"; id: string | null };

/** Roles that may revoke a rule. */
export const RULE_REVOKE_ROLES: readonly string[] = DEFAULT_APPROVER_ROLES;

/**
 * Parse `rules`, `/rules`, `list rules`, `show standing rules`, `revoke rule R12`, `revoke R12`,
 * `/revoke 12`; null for anything else. Pure and total.
 */
export function parseRuleCommand(text: string): RuleCommand | null {
  if (typeof text !== "string" || text.length > 200) return null;
  const t = text.trim().toLowerCase().replace(/\s+/g, " ");
  if (/^\/?(?:(?:list|show) )?(?:(?:the|my|all) )?(?:standing )?rules(?:@\w+)?[?!.]*$/.test(t))
    return { kind: "rules" };
  const m = /^\/?revoke(?:@\w+)?(?: (?:the )?(?:standing )?rule)?(?: (\S+?))?[!.]*$/.exec(t);
  if (!m) return null;
  const serial = m[1] === undefined ? null : parseRuleId(m[1]);
  return { kind: "revoke", id: serial === null ? null : formatRuleId(serial) };
}

/** Injected dependencies of {@link withRuleCommands}. */
export interface RuleCommandDeps {
  rules: Pick<RuleBook, "list" | "revoke">;
  settings: Pick<SettingsStore, "isPaused">;
  audit: Pick<AuditStore, "append">;
  renderer: Pick<Renderer, "render" | "formatOf">;
  enqueue: EnqueueOutbox;
  now: () => Date;
}

/** `inner` with `rules` and `revoke rule <id>` answered first. */
export function withRuleCommands(inner: TextIntentHandler, deps: RuleCommandDeps): TextIntentHandler {
  const say = createReply(deps);

  async function list(event: InboundText, operator: Operator): Promise<void> {
    const now = deps.now();
    const [rules, paused] = await Promise.all([deps.rules.list(now), deps.settings.isPaused()]);
    await say(event, "rules-list", {
      empty: rules.length === 0,
      count: rules.length,
      paused,
      items: rules.map((r) => ruleView(r, operator.timezone, now)),
    });
  }

  async function revoke(event: InboundText, operator: Operator, id: string | null): Promise<void> {
    const at = deps.now();
    if (!operator.roles.some((r) => RULE_REVOKE_ROLES.includes(r))) {
      await deps.audit.append([
        {
          actor: operator.name,
          action: "command.refused",
          subject: id ? `rule:${id}` : null,
          at,
          data: { command: "revoke", channel: event.channel, roles: operator.roles },
        },
      ]);
      return say(event, "not-allowed", { action: "revoke rules", roles: RULE_REVOKE_ROLES.join(", ") });
    }
    if (id === null) return say(event, "rule-revoked", { usage: true });
    const result = await deps.rules.revoke(id, operator.name, event.channel, at);
    if (result.outcome === "not_found") return say(event, "rule-revoked", { unknown: true, id });
    if (result.outcome === "already_ended") {
      const how = result.rule.revokedBy
        ? `revoked by ${result.rule.revokedBy}`
        : `expired ${formatClock(result.rule.expiresAt, operator.timezone, at)}`;
      return say(event, "rule-revoked", { ended: true, rule: result.rule.id, how });
    }
    await say(event, "rule-revoked", { revoked: ruleView(result.rule, operator.timezone, at) });
  }

  return async (input) => {
    const command = parseRuleCommand(input.text);
    if (!command) return inner(input);
    if (command.kind === "rules") await list(input.event, input.operator);
    else await revoke(input.event, input.operator, command.id);
    return `rule-${command.kind}`;
  };
}
