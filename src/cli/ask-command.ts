/**
 * `signoff ask`: the CLI gate. Creates an approval request, waits for the decision and exits with
 * a code a shell script can branch on (0 approved, 1 rejected, 3 changes requested, 4 cancelled
 * or not decided in time, 2 usage, config or connection error). The waiting rides out network
 * drops without a second request (one idempotency key per invocation), and Ctrl-C cancels the
 * request so no operator approves something nobody will do.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  type ApprovalInput,
  type ApprovalRecord,
  SignoffAbortError,
  type SignoffClient,
  SignoffRequestError,
  SignoffTimeoutError,
  SignoffTransportError,
} from "../client/index.js";
import { GATES, type Gate } from "../domain/approval.js";
import { describeDecision, formatDuration } from "../tools/approval-words.js";
import { CliError, type CliCommand, type CliIo, parseFlags, UsageError } from "./command.js";
import { requesterClient } from "./requester-client.js";
import { readStdin } from "./stdin.js";
import { type Progress, startProgress } from "./wait-progress.js";

/** Exit codes of `ask` (and of `run` when the command does not run). */
export const ASK_EXIT = { approved: 0, rejected: 1, changes_requested: 3, cancelled: 4, noDecision: 4 } as const;

/** How long the create keeps retrying an unreachable signoff before `ask` exits 2. */
const CREATE_BUDGET_MS = 15_000;

/** The flags `ask` and `run` share. */
export const ASK_OPTIONS = {
  title: { type: "string" },
  gate: { type: "string" },
  reason: { type: "string" },
  agent: { type: "string" },
  preview: { type: "string" },
  "preview-file": { type: "string" },
  action: { type: "string" },
  "payload-file": { type: "string" },
  deadline: { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

/** The option lines of `ask`'s usage, shared with `run`'s. */
export const ASK_OPTIONS_USAGE = `  --title T            what is to be done (required)
  --gate G             auto, low, medium (default), hard (needs a preview) or prohibited
  --reason R           why
  --agent A            who asks (an agent, a pipeline)
  --preview TEXT       the dry run operators review (required for hard)
  --preview-file F     the preview read from a file (- for stdin)
  --action KEY         a stable key such as deploy:prod (standing approvals match on it)
  --payload-file F     JSON of exactly what will run (- for stdin); its SHA-256 is on the card
  --deadline S         seconds operators have to decide (signoff's default: 4 h)
  --timeout S          seconds to wait for a decision (default 600); then the request is cancelled
  --json               print the final record as JSON on stdout
  --quiet              no progress on stderr

  SIGNOFF_URL and SIGNOFF_TOKEN (the source's token) come from the environment or .env.
  Exit codes: 0 approved, 1 rejected (a deadline passing counts), 3 changes requested (the note
  on stdout), 4 cancelled (Ctrl-C cancels the request) or no decision within --timeout,
  2 usage, config or connection error.`;

const USAGE = `usage: signoff ask --title T [--gate medium] [--reason R] [--timeout 600] [--json] [options]

  Ask signoff's operators for approval and wait for their decision.

${ASK_OPTIONS_USAGE}`;

/** What one `ask` sends and how it waits, read from the flags. */
export interface AskRequest {
  input: ApprovalInput;
  timeoutMs: number;
  json: boolean;
  quiet: boolean;
}

/** How an `ask` ended: the exit code, and the record when there is one. */
export interface AskOutcome {
  code: number;
  record: ApprovalRecord | null;
}

type AskValues = ReturnType<typeof parseFlags<typeof ASK_OPTIONS>>["values"];

/** Read the flags into a request; a flag with a bad value is a {@link UsageError} naming it. */
export async function readAskRequest(values: AskValues, usage: string): Promise<AskRequest> {
  if (!values.title) throw new UsageError("--title is required", usage);
  const gate = values.gate ?? "medium";
  if (!(GATES as readonly string[]).includes(gate))
    throw new UsageError(`--gate must be one of ${GATES.join(", ")} (got '${gate}')`, usage);
  if (values.preview !== undefined && values["preview-file"] !== undefined)
    throw new UsageError("give --preview or --preview-file, not both", usage);
  if (values["preview-file"] === "-" && values["payload-file"] === "-")
    throw new UsageError("only one of --preview-file and --payload-file can read stdin", usage);
  const timeoutSeconds = seconds(values.timeout, "--timeout", usage) ?? 600;
  const deadlineSeconds = seconds(values.deadline, "--deadline", usage);
  const preview =
    values["preview-file"] === undefined ? values.preview : await readText(values["preview-file"], "--preview-file");
  const payloadFile = values["payload-file"];
  const payload = payloadFile === undefined ? undefined : parseJson(await readText(payloadFile, "--payload-file"));
  const input: AskRequest["input"] = {
    title: values.title,
    gate: gate as Gate,
    // One key for this invocation: a create whose answer was lost is found again, not repeated.
    idempotencyKey: `signoff-ask:${randomUUID()}`,
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values.agent !== undefined ? { agent: values.agent } : {}),
    ...(preview !== undefined ? { preview } : {}),
    ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
    ...(values.action !== undefined ? { action: values.action } : {}),
    ...(payload !== undefined ? { payload: payload.value } : {}),
  };
  return { input, timeoutMs: timeoutSeconds * 1000, json: values.json === true, quiet: values.quiet === true };
}

function seconds(value: string | undefined, flag: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a number of seconds above 0 (got '${value}')`, usage);
  return n;
}

async function readText(file: string, flag: string): Promise<string> {
  try {
    return file === "-" ? await readStdin() : await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`${flag} ${file}: ${(error as Error).message}`);
  }
}

function parseJson(text: string): { value: unknown } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    throw new CliError(`--payload-file is not JSON: ${(error as Error).message}`);
  }
}

/** The exit code for a decided record. */
export function exitCodeFor(record: ApprovalRecord): number {
  if (record.status === "pending") return ASK_EXIT.noDecision;
  return ASK_EXIT[record.status];
}

/**
 * Ask and wait, saying on stderr who was asked and how long is left (unless `quiet`); resolves to
 * the exit code. Ctrl-C while waiting cancels the request (exit 4). Refusals and an unreachable
 * signoff throw {@link CliError} (exit 2).
 */
export async function askForApproval(request: AskRequest, io: CliIo): Promise<AskOutcome> {
  const client = requesterClient(io.env, { retryBudgetMs: Math.min(CREATE_BUDGET_MS, request.timeoutMs) });
  const say = (line: string) => (request.quiet ? undefined : io.err(line));
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error("interrupted (SIGINT)"));
  process.once("SIGINT", onSigint);
  const display: { progress: Progress | null; created: ApprovalRecord | null } = { progress: null, created: null };
  const until = Date.now() + request.timeoutMs;
  let record: ApprovalRecord;
  try {
    // The create gets a shorter budget than the wait: an unreachable signoff is reported in
    // seconds, not after the whole --timeout.
    const created = await client.createApproval(request.input, { signal: controller.signal });
    display.created = created;
    if (!request.quiet && created.status === "pending") {
      const tty = process.stderr.isTTY === true;
      display.progress = startProgress({ tty, write: (t) => process.stderr.write(t), line: io.err }, created, until);
    }
    // The same idempotency key finds the request just made (200), then long polls until decided.
    record =
      created.status === "pending"
        ? await client.requireApproval(request.input, { timeoutMs: until - Date.now(), signal: controller.signal })
        : created;
  } catch (error) {
    display.progress?.stop();
    if ((error instanceof SignoffAbortError || error instanceof SignoffTransportError) && display.created)
      error.approvalId ??= display.created.id;
    return await afterNoDecision(error, request, client, io, say);
  } finally {
    display.progress?.stop();
    process.removeListener("SIGINT", onSigint);
  }
  return finish(record, request, io, say);
}

function finish(record: ApprovalRecord, request: AskRequest, io: CliIo, say: (line: string) => void): AskOutcome {
  say(`${record.code} ${describeDecision(record)}`);
  if (request.json) io.out(JSON.stringify(record, null, 2));
  else if (record.status === "changes_requested" && record.note) io.out(record.note);
  return { code: exitCodeFor(record), record };
}

async function afterNoDecision(
  error: unknown,
  request: AskRequest,
  client: SignoffClient,
  io: CliIo,
  say: (line: string) => void,
): Promise<AskOutcome> {
  if (error instanceof SignoffTimeoutError) {
    // Nobody will act on a later answer once this command has given up: take the card down.
    const record = await cancelQuietly(client, error.approval.id);
    if (record && record.status !== "pending" && record.status !== "cancelled") return finish(record, request, io, say);
    say(`no decision on ${error.approval.code} within ${formatDuration(request.timeoutMs)}: cancelled it`);
    if (request.json) io.out(JSON.stringify(record ?? error.approval, null, 2));
    return { code: ASK_EXIT.noDecision, record: record ?? error.approval };
  }
  if (error instanceof SignoffAbortError) {
    const id = error.approvalId ?? (await findByKey(client, request.input.idempotencyKey));
    const record = id ? await cancelQuietly(client, id) : null;
    if (!record) io.err("interrupted before the request was on record");
    else if (record.status === "cancelled") io.err(`cancelled ${record.code}`);
    else io.err(`interrupted: ${record.code} was already ${describeDecision(record)}`);
    if (request.json && record) io.out(JSON.stringify(record, null, 2));
    return { code: ASK_EXIT.cancelled, record };
  }
  if (error instanceof SignoffRequestError) throw new CliError(error.message);
  if (error instanceof SignoffTransportError) {
    const still = error.approvalId ? `; request ${error.approvalId} is still on record` : "";
    throw new CliError(`${describeTransportError(error)}${still}`);
  }
  throw error;
}

/** The transport error with the socket's reason (`connection refused`) instead of a bare "fetch failed". */
export function describeTransportError(error: SignoffTransportError): string {
  const cause = error.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = cause?.cause?.code ?? cause?.code;
  const words = typeof code === "string" ? SOCKET_WORDS[code] : undefined;
  return words ? error.message.replace("fetch failed", words) : error.message;
}

const SOCKET_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is signoff running there?)",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be resolved (DNS)",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connect timed out",
};

async function cancelQuietly(client: SignoffClient, id: string): Promise<ApprovalRecord | null> {
  try {
    return await client.cancel(id, { signal: AbortSignal.timeout(10_000) });
  } catch {
    return null;
  }
}

// Interrupted while the create was on its way: it may have landed, so look for it by its key.
async function findByKey(client: SignoffClient, key: string | undefined): Promise<string | undefined> {
  try {
    const pending = await client.listPending({ signal: AbortSignal.timeout(5000) });
    return pending.find((a) => a.idempotencyKey === key)?.id;
  } catch {
    return undefined;
  }
}

/** The `ask` entry of the command table. */
export const askCommand: CliCommand = {
  summary: "  ask --title T [...]  ask operators for approval and wait; exit 0 approved, 1 rejected, 3 changes, 4 none",
  usage: USAGE,
  async run(args, io) {
    const { values } = parseFlags(args, ASK_OPTIONS, USAGE);
    const request = await readAskRequest(values, USAGE);
    return (await askForApproval(request, io)).code;
  },
};
