/**
 * How the requester tools (the CLI gate, the MCP server, the agent hook) put an approval record
 * into words: who is asked, who decided and what they said. One wording for all three, so a
 * person reading a terminal, a model reading a tool result and an agent reading a hook answer
 * are told the same thing.
 */
import type { ApprovalRecord } from "../client/index.js";

/**
 * Who must answer: `approver or owner (1 needed, gate medium)`; the gate is the effective one
 * (a pause makes `low` a `medium`).
 *
 * @example
 * whoIsAsked(record); // "approver or owner (1 needed, gate medium)"
 */
export function whoIsAsked(record: ApprovalRecord): string {
  const roles = record.approvers.roles.length > 0 ? record.approvers.roles.join(" or ") : "the approvers";
  return `${roles} (${record.approvers.quorum} needed, gate ${record.effectiveGate})`;
}

/**
 * The decision in a few words, with the operator's note when there is one:
 * `approved by eve`, `rejected by adam: not during the sale`, `rejected: nobody decided before
 * the deadline`, `changes requested by adam: use staging first`, `cancelled`.
 *
 * @example
 * describeDecision({ ...record, status: "approved", decidedBy: "eve" }); // "approved by eve"
 */
export function describeDecision(record: ApprovalRecord): string {
  const note = record.note ? `: ${record.note}` : "";
  const by = decider(record.decidedBy);
  switch (record.status) {
    case "pending":
      return "still pending";
    case "approved":
      return `approved ${by}${note}`;
    case "rejected":
      if (record.decidedBy === "timeout") return `rejected: nobody decided before the deadline${note}`;
      return `rejected ${by}${note}`;
    case "changes_requested":
      return `changes requested ${by}${note}`;
    case "cancelled":
      return `cancelled${note}`;
  }
}

function decider(decidedBy: string | null): string {
  if (!decidedBy) return "";
  if (decidedBy === "policy") return "by policy";
  if (decidedBy === "objection-window") return "(nobody objected in time)";
  if (decidedBy === "timeout") return "when the deadline passed";
  if (decidedBy.startsWith("rule:")) return `by standing rule ${decidedBy.slice("rule:".length)}`;
  return `by ${decidedBy}`;
}

/**
 * A duration for people, rounded to what matters at that size: `45s`, `9m 05s`, `3h 20m`.
 *
 * @example
 * formatDuration(545_000); // "9m 05s"
 */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}
