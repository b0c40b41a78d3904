/**
 * How a decided request's outcome reads on its card, in the words a person uses: who or what
 * decided, when, and the note — "✅ Approved by adam at 09:14", "⌛ Expired at 13:00 with no
 * answer — denied", never a machine name such as "by objection-window".
 */
import type { Approval } from "../../domain/approval.js";
import { formatClock, formatDuration } from "../../lib/time-format.js";

/** The prefix of `decidedBy` when a standing rule approved the request (`rule:<id>`). */
const RULE_PREFIX = "rule:";

type Decided = Pick<Approval, "status" | "decidedBy" | "decidedAt" | "note" | "objectionSeconds">;

/**
 * The outcome line of a decided request for a reader in `zone`, e.g. "✅ Approved by adam at
 * 09:14", "✅ Approved automatically after 10s with no objection", "✅ Approved by rule 12",
 * "⌛ Expired at 13:00 with no answer — denied", "🚫 Cancelled by forge",
 * "📝 Changes requested by eve: use staging first". Null while pending.
 */
export function describeDecision(approval: Decided, zone: string, now: Date): string | null {
  if (approval.status === "pending") return null;
  const by = approval.decidedBy ?? "";
  const at = approval.decidedAt ? formatClock(approval.decidedAt, zone, now) : null;
  const when = at ? ` at ${at}` : "";
  const note = approval.note ? `: ${approval.note}` : "";
  if (by === "timeout") {
    const result = approval.status === "approved" ? "approved" : "denied";
    return `⌛ Expired${when} with no answer — ${result}`;
  }
  switch (approval.status) {
    case "approved": {
      if (by === "objection-window") {
        const length =
          approval.objectionSeconds === null ? "" : ` after ${formatDuration(approval.objectionSeconds * 1000)}`;
        return `✅ Approved automatically${length} with no objection`;
      }
      if (by === "policy") return "✅ Approved automatically (auto gate)";
      if (by.startsWith(RULE_PREFIX)) return `✅ Approved by rule ${by.slice(RULE_PREFIX.length)}`;
      return `✅ Approved by ${by}${when}${note}`;
    }
    case "rejected":
      if (by === "policy") return `🚫 Refused by policy${note}`;
      return `❌ Rejected by ${by}${when}${note}`;
    case "changes_requested":
      return `📝 Changes requested by ${by}${note}`;
    case "cancelled":
      return `🚫 Cancelled by ${by}`;
  }
}
