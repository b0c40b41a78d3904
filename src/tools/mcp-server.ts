/**
 * signoff as MCP tools for an AI agent: `request_approval`, `wait_for_decision` and `get_status`,
 * over the requester client. No tool call holds the model longer than 50 s (hosts time tool calls
 * out around a minute), so a long wait is a loop of `wait_for_decision` calls, and every answer
 * tells the model what to do next. Nothing here writes to stdout: on stdio it is the protocol.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import {
  type ApprovalRecord,
  SignoffAbortError,
  type SignoffClient,
  SignoffRequestError,
  SignoffTransportError,
} from "../client/index.js";
import { GATES } from "../domain/approval.js";
import { ACTION_PATTERN } from "../domain/requests/approval-requests.js";
import { describeDecision, whoIsAsked } from "./approval-words.js";

/** The longest a tool call may take, whatever `waitSeconds` asks. */
export const TOOL_BUDGET_MS = 50_000;
/** signoff is asked to hold a long poll this much less than what is left, so its answer arrives in time. */
const HOLD_MARGIN_MS = 2000;
const MAX_WAIT_SECONDS = 50;

const ON_DECISION = `When the status is "pending", call wait_for_decision with the id (again and again) and do not do
the action meanwhile. "approved": go ahead, exactly as requested and nothing more. "rejected": do not do it;
tell the user it was rejected and the note, if any. "changes_requested": do not do it as asked; follow the
note, then call request_approval again with the changed request. "cancelled", or rejected because the
deadline passed (decidedBy "timeout"): do not do it.`;

/** What the model is told to do with a request in this state. */
export function nextStep(record: ApprovalRecord): string {
  switch (record.status) {
    case "pending":
      return `Not decided yet: call wait_for_decision with id "${record.id}" and do not do the action meanwhile.`;
    case "approved":
      return "Approved: go ahead, exactly as requested and nothing more.";
    case "rejected":
      return record.decidedBy === "timeout"
        ? "Nobody decided before the deadline: do not do it. Tell the user it expired without approval."
        : `Rejected: do not do it. Tell the user it was rejected${record.note ? ` (${record.note})` : ""}.`;
    case "changes_requested":
      return `Changes requested: do not do it as asked. Do what the note says (${record.note ?? "no note"}), then call request_approval again with the changed request.`;
    case "cancelled":
      return "Cancelled: do not do it.";
  }
}

/** The record as the model reads it: what matters to decide the next step, and the step. */
export function modelView(record: ApprovalRecord) {
  return {
    id: record.id,
    code: record.code,
    title: record.title,
    status: record.status,
    decision: describeDecision(record),
    decidedBy: record.decidedBy,
    note: record.note,
    askedOf: whoIsAsked(record),
    deadlineAt: record.deadlineAt,
    ...(record.payloadSha256 ? { payloadSha256: record.payloadSha256 } : {}),
    next: nextStep(record),
  };
}

const text = (value: unknown, isError = false): CallToolResult => ({
  content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }],
  ...(isError ? { isError: true } : {}),
});

/** Options of {@link createSignoffMcpServer}. */
export interface McpServerOptions {
  /** The package version, reported to the host. */
  version: string;
  /** A line for the operator running the host (stderr): never the protocol channel. */
  log(line: string): void;
  now?: () => number;
}

/**
 * An MCP server exposing signoff's approval tools through `client`; connect it to a transport.
 *
 * @example
 * const server = createSignoffMcpServer(client, { version: "0.1.0", log: (l) => process.stderr.write(`${l}\n`) });
 * await server.connect(new StdioServerTransport());
 */
export function createSignoffMcpServer(client: SignoffClient, options: McpServerOptions): McpServer {
  const now = options.now ?? Date.now;
  const server = new McpServer({ name: "signoff", version: options.version });

  /** Read `id`, held by signoff for up to `waitSeconds` but never past the call's budget. */
  async function readWithin(id: string, waitSeconds: number, startedAt: number): Promise<ApprovalRecord> {
    const left = TOOL_BUDGET_MS - (now() - startedAt);
    const hold = Math.max(0, Math.min(waitSeconds, Math.floor((left - HOLD_MARGIN_MS) / 100) / 10));
    return client.getApproval(id, { waitSeconds: hold, signal: AbortSignal.timeout(Math.max(1, left)) });
  }

  function failure(error: unknown, tool: string, id?: string): CallToolResult {
    const onRecord = id ? ` The request ${id} is on record: call wait_for_decision with it again.` : "";
    if (error instanceof SignoffRequestError) return text(`signoff refused: ${error.message}`, true);
    if (error instanceof SignoffAbortError)
      return text(`signoff did not answer within ${TOOL_BUDGET_MS / 1000} s.${onRecord}`, true);
    if (error instanceof SignoffTransportError) {
      options.log(`signoff mcp: ${tool}: ${error.message}`);
      return text(`signoff cannot be reached now (${error.message}).${onRecord} Do not do the action.`, true);
    }
    options.log(`signoff mcp: ${tool}: ${(error as Error)?.message ?? String(error)}`);
    return text(`signoff mcp failed: ${(error as Error)?.message ?? String(error)}. Do not do the action.`, true);
  }

  const waitSeconds = z
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .describe(`How long to wait for a decision, in seconds (at most ${MAX_WAIT_SECONDS}).`);

  server.registerTool(
    "request_approval",
    {
      title: "Ask a person for approval",
      description: `Ask signoff's human operators to approve an action before you do it (they answer in Telegram, WhatsApp or the web chat). Returns id, code and status at once, or after waiting up to waitSeconds. ${ON_DECISION}`,
      inputSchema: {
        title: z.string().min(1).max(200).describe("What you want to do, in one line (e.g. 'Deploy api 1.4 to prod')."),
        reason: z.string().max(2000).optional().describe("Why it is needed."),
        gate: z
          .enum(GATES)
          .optional()
          .describe(
            "Risk: auto (just announce), low (proceeds unless someone objects within seconds), medium (default: someone must approve), hard (needs the dry-run preview and possibly several approvers), prohibited.",
          ),
        agent: z.string().max(100).optional().describe("Who is asking (your agent name)."),
        preview: z
          .string()
          .max(3000)
          .optional()
          .describe("The dry run or exact command the operators review; required for the hard gate."),
        action: z
          .string()
          .max(100)
          .regex(ACTION_PATTERN)
          .optional()
          .describe("A stable key for the kind of action (letters, digits, _ . : / -), e.g. deploy:staging."),
        payload: z.unknown().optional().describe("JSON of exactly what will be done; its SHA-256 is on record."),
        deadlineSeconds: z.number().positive().optional().describe("How long operators have to decide."),
        waitSeconds,
      },
    },
    async (args) => {
      const startedAt = now();
      let approval: ApprovalRecord;
      try {
        const { waitSeconds: wait, ...input } = args;
        approval = await client.createApproval(
          { ...input, gate: input.gate ?? "medium" },
          { signal: AbortSignal.timeout(TOOL_BUDGET_MS) },
        );
      } catch (error) {
        return failure(error, "request_approval");
      }
      if (approval.status !== "pending" || !args.waitSeconds) return text(modelView(approval));
      try {
        return text(modelView(await readWithin(approval.id, args.waitSeconds, startedAt)));
      } catch {
        // The request is on record; not having waited is not a failure of the request.
        return text(modelView(approval));
      }
    },
  );

  server.registerTool(
    "wait_for_decision",
    {
      title: "Wait for the operators' decision",
      description: `Wait up to waitSeconds (default and at most ${MAX_WAIT_SECONDS}) for the decision on a request made with request_approval, and return it, pending or decided. ${ON_DECISION}`,
      inputSchema: {
        id: z.string().min(1).describe("The id request_approval returned."),
        waitSeconds,
      },
    },
    async ({ id, waitSeconds: wait }) => {
      try {
        return text(modelView(await readWithin(id, wait ?? MAX_WAIT_SECONDS, now())));
      } catch (error) {
        return failure(error, "wait_for_decision", id);
      }
    },
  );

  server.registerTool(
    "get_status",
    {
      title: "Look up approval requests",
      description: `With id: that request as it stands now (no waiting). Without: this source's pending requests. ${ON_DECISION}`,
      inputSchema: { id: z.string().min(1).optional().describe("A request id; leave out to list pending ones.") },
    },
    async ({ id }) => {
      try {
        if (id) return text(modelView(await client.getApproval(id, { signal: AbortSignal.timeout(TOOL_BUDGET_MS) })));
        const pending = await client.listPending({ signal: AbortSignal.timeout(TOOL_BUDGET_MS) });
        return text({ pending: pending.map(modelView) });
      } catch (error) {
        return failure(error, "get_status", id);
      }
    },
  );

  return server;
}
