/**
 * What an operator's chat text means when it is not an answer to a card: a read-only query
 * (open to every operator) or a command (allowed to configured roles). Parsed once by the chat
 * handler, dispatched from one table.
 */

/** Read-only questions, open to every operator. */
export const QUERY_KINDS = ["status", "queue", "spend", "failures", "pending", "digest", "help"] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

/** Commands that change something; each is allowed to configured roles only. */
export const COMMAND_KINDS = ["kill", "retry", "prioritise", "pause", "resume", "pair"] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

/**
 * Why text that looks like a command is not one to act on: a misspelt verb or word ("kil task
 * X", "kill tsak X"), words saying not to ("don't pause", "kill task X, no wait"), or a question
 * rather than an order ("pause please?").
 */
export type NearMissReason = "typo" | "negated" | "question";

/** A command a near miss resembles, as it would be typed (`kill task T-16`), and what it is. */
export interface Suggestion {
  kind: CommandKind | "approve" | "reject" | "modify";
  text: string;
}

/**
 * A parsed intent. `taskId` is null when a task command named no task. A `near-miss` changes
 * nothing: the operator is shown the command(s) it resembles.
 */
export type Intent =
  | { kind: "near-miss"; why: NearMissReason; suggestions: readonly Suggestion[] }
  | { kind: Exclude<QueryKind, "spend"> }
  | { kind: "spend"; day: "today" | "yesterday" }
  | { kind: "kill" | "retry" | "prioritise"; taskId: string | null }
  | { kind: "pause" | "resume" }
  | { kind: "pair"; code: string; role: string; name: string | null }
  | { kind: "pair"; code: null }
  /**
   * About the speaker themselves: away until a date as typed (null: none given; the handler reads
   * it in their timezone), optionally naming who answers for them; back; their digest on or off.
   */
  | { kind: "away"; until: string | null; delegate: string | null }
  | { kind: "back" }
  | { kind: "digest-switch"; on: boolean }
  /** An owner removes an operator paired in chat (null: no name given). */
  | { kind: "unpair"; name: string | null };
