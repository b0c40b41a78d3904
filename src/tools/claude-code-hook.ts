/**
 * The Claude Code `PreToolUse` hook: a tool call the policy gates becomes an approval request
 * (title from the tool and its input, `action` = the tool name, `payload` = its input), and the
 * operators' decision becomes the hook's answer: approved → allow, rejected or changes requested
 * → deny with the note (so the model adjusts), no decision in time → ask (Claude's own prompt
 * takes over). Whatever goes wrong — bad input, signoff unreachable, a refused request — the
 * answer is ask, never allow.
 */
import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import {
  type ApprovalInput,
  type ApprovalRecord,
  type SignoffClient,
  SignoffRequestError,
  SignoffTimeoutError,
} from "../client/index.js";
import { ACTION_PATTERN } from "../domain/requests/approval-requests.js";
import { describeDecision, formatDuration } from "./approval-words.js";
import { gateFor, type HookPolicy, subjectOf } from "./hook-policy.js";

/** What the hook prints on stdout for Claude Code. */
export interface HookAnswer {
  hookSpecificOutput: {
    hookEventName: "PreToolUse";
    permissionDecision: "allow" | "deny" | "ask";
    permissionDecisionReason: string;
  };
}

/** The fields of Claude Code's PreToolUse event that the hook reads (others are kept, ignored). */
export const PreToolUseEventSchema = z.looseObject({
  hook_event_name: z.string().optional(),
  tool_name: z.string().min(1),
  tool_input: z.record(z.string(), z.unknown()).default({}),
  session_id: z.string().optional(),
  tool_use_id: z.string().optional(),
  cwd: z.string().optional(),
});
export type PreToolUseEvent = z.infer<typeof PreToolUseEventSchema>;

/** What the hook needs: the client (or why there is none), the policy, how long to wait. */
export interface HookDeps {
  /** A client, or the reason none could be made (e.g. SIGNOFF_URL not set): then the answer is ask. */
  client: SignoffClient | { unavailable: string };
  policy: HookPolicy;
  waitSeconds: number;
  /** A line for whoever reads the hook's stderr (Claude Code's debug log). */
  log(line: string): void;
}

/** A hook answer with this decision and reason. */
export function hookAnswer(
  decision: HookAnswer["hookSpecificOutput"]["permissionDecision"],
  reason: string,
): HookAnswer {
  return {
    hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: decision, permissionDecisionReason: reason },
  };
}

/** Limits of the request's text fields, as signoff accepts them. */
const LIMITS = { title: 200, reason: 2000, preview: 3000, agent: 100, action: 100, payloadBytes: 16_000 } as const;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/** The card's dry run: the command, or the file and what goes into it, or the input as JSON. */
export function previewOf(tool: string, input: Record<string, unknown>): string {
  const str = (key: string) => (typeof input[key] === "string" ? (input[key] as string) : undefined);
  const file = str("file_path") ?? str("notebook_path");
  let preview: string;
  if (tool === "Bash" && str("command")) preview = str("command")!;
  else if (file && str("content") !== undefined) preview = `${file}\n\n${str("content")}`;
  else if (file && str("old_string") !== undefined)
    preview = `${file}\n- ${str("old_string")}\n+ ${str("new_string") ?? ""}`;
  else preview = JSON.stringify(input, null, 2);
  return cut(preview, LIMITS.preview);
}

/**
 * The tool input as the request's payload, within signoff's size limit: as is when it fits; else
 * long strings (a whole file's content) stand as their SHA-256 and length, so the payload still
 * pins exactly what was asked.
 */
export function payloadOf(input: Record<string, unknown>): unknown {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  if (size(input) <= LIMITS.payloadBytes) return input;
  const digest = (text: string) => createHash("sha256").update(text).digest("hex");
  const shrunk = Object.fromEntries(
    Object.entries(input).map(([key, value]) =>
      typeof value === "string" && value.length > 512
        ? [key, { sha256: digest(value), length: value.length, head: value.slice(0, 200) }]
        : [key, value],
    ),
  );
  if (size(shrunk) <= LIMITS.payloadBytes) return shrunk;
  const whole = JSON.stringify(input);
  return { sha256: digest(whole), bytes: Buffer.byteLength(whole), note: "tool input too large to attach" };
}

/** The approval request for one tool call at `gate`. */
export function requestFor(event: PreToolUseEvent, gate: ApprovalInput["gate"]): ApprovalInput {
  const input = event.tool_input;
  const description = typeof input.description === "string" ? input.description : undefined;
  const reason = [description, event.cwd ? `in ${event.cwd}` : undefined].filter(Boolean).join(" ");
  const session = event.session_id ? ` ${event.session_id.slice(0, 8)}` : "";
  const action = ACTION_PATTERN.test(event.tool_name) ? cut(event.tool_name, LIMITS.action) : undefined;
  return {
    title: cut(`${event.tool_name}: ${oneLine(subjectOf(input))}`, LIMITS.title),
    gate,
    ...(reason ? { reason: cut(reason, LIMITS.reason) } : {}),
    agent: cut(`claude-code${session}`, LIMITS.agent),
    preview: previewOf(event.tool_name, input),
    ...(action ? { action } : {}),
    payload: payloadOf(input),
    // The same tool call asked twice (a hook re-run) finds its request; another call never does.
    idempotencyKey: cut(
      event.tool_use_id ? `claude-code:${event.session_id ?? ""}:${event.tool_use_id}` : `claude-code:${randomUUID()}`,
      200,
    ),
  };
}

/** The hook's answer for a decided (or still pending) request. */
export function answerFor(record: ApprovalRecord, waitSeconds: number): HookAnswer {
  const where = `in signoff (${record.code})`;
  switch (record.status) {
    case "approved":
      return hookAnswer("allow", `${describeDecision(record)} ${where}`);
    case "rejected":
      return hookAnswer("deny", `${describeDecision(record)} ${where}. Do not do this; tell the user.`);
    case "changes_requested":
      return hookAnswer(
        "deny",
        `${describeDecision(record)} ${where}. Change the call as the note says, then try again (it will be asked again).`,
      );
    case "cancelled":
      return hookAnswer("deny", `the request was cancelled ${where}. Do not do this.`);
    case "pending":
      return hookAnswer(
        "ask",
        `no decision in signoff within ${formatDuration(waitSeconds * 1000)}: confirm here, or answer ${record.code} in chat`,
      );
  }
}

/**
 * Answer one PreToolUse event (the raw stdin text); `null` means print nothing (the tool is not
 * gated, or the event is not a PreToolUse one), and Claude Code's own flow goes on.
 *
 * @example
 * const reply = await answerPreToolUse(stdin, { client, policy, waitSeconds: 50, log });
 * if (reply) process.stdout.write(JSON.stringify(reply));
 */
export async function answerPreToolUse(eventText: string, deps: HookDeps): Promise<HookAnswer | null> {
  let event: PreToolUseEvent;
  try {
    const parsed = PreToolUseEventSchema.safeParse(JSON.parse(eventText));
    if (!parsed.success)
      throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    event = parsed.data;
  } catch (error) {
    deps.log(`signoff hook: unreadable PreToolUse event: ${(error as Error).message}`);
    return hookAnswer("ask", "signoff could not read this tool call: confirm here");
  }
  if (event.hook_event_name !== undefined && event.hook_event_name !== "PreToolUse") {
    deps.log(`signoff hook: ${event.hook_event_name} is not a PreToolUse event; nothing to decide`);
    return null;
  }
  const gate = gateFor(deps.policy, event.tool_name, event.tool_input);
  if (gate === "none") return null;
  if ("unavailable" in deps.client) {
    deps.log(`signoff hook: ${deps.client.unavailable}`);
    return hookAnswer("ask", `signoff is not set up here (${deps.client.unavailable}): confirm here`);
  }
  const client = deps.client;
  const request = requestFor(event, gate);
  const until = Date.now() + deps.waitSeconds * 1000;
  try {
    const created = await client.createApproval(request, { signal: AbortSignal.timeout(deps.waitSeconds * 1000) });
    if (created.status !== "pending") return answerFor(created, deps.waitSeconds);
    // The same idempotency key finds the request just made, then long polls until decided.
    const decided = await client.requireApproval(request, { timeoutMs: until - Date.now() });
    return answerFor(decided, deps.waitSeconds);
  } catch (error) {
    if (error instanceof SignoffTimeoutError) return answerFor(error.approval, deps.waitSeconds);
    const message = (error as Error)?.message ?? String(error);
    deps.log(`signoff hook: ${message}`);
    if (error instanceof SignoffRequestError)
      return hookAnswer("ask", `signoff refused the request (${message}): confirm here`);
    return hookAnswer("ask", `signoff could not be asked (${message}): confirm here`);
  }
}
