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

/** A parsed intent. `taskId` is null when a task command named no task. */
export type Intent =
  | { kind: Exclude<QueryKind, "spend"> }
  | { kind: "spend"; day: "today" | "yesterday" }
  | { kind: "kill" | "retry" | "prioritise"; taskId: string | null }
  | { kind: "pause" | "resume" }
  | { kind: "pair"; code: string; role: string; name: string | null }
  | { kind: "pair"; code: null };
