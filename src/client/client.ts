/**
 * The requester's side of signoff over its HTTP API: ask for an approval and wait for the
 * decision, read and cancel requests, and report tasks, spend, heartbeats and notices. Every
 * call retries transport failures inside its time budget (see `transport.ts`); a create carries
 * one idempotency key for all its attempts, so a lost answer never makes a second request.
 */
import { randomUUID } from "node:crypto";
import { SignoffAbortError, SignoffTimeoutError, SignoffTransportError } from "./errors.js";
import { createTransport, type Exchange } from "./transport.js";
import type {
  ApprovalInput,
  ApprovalRecord,
  DecidedApprovalRecord,
  HeartbeatInput,
  NotifyInput,
  SpendInput,
  TaskInput,
  TaskRecord,
} from "./types.js";

/** How {@link createClient} reaches signoff. */
export interface ClientOptions {
  /** signoff's base URL (`SIGNOFF_URL`), e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The source's bearer token (`SIGNOFF_TOKEN`). */
  token: string;
  /** A fetch to use instead of the global one (a proxy agent, a test double). */
  fetch?: typeof globalThis.fetch;
  /** How long a call other than `requireApproval` keeps retrying transport failures. @defaultValue 30000 */
  retryBudgetMs?: number;
  /** How long one attempt may take, beyond a long poll's hold. @defaultValue 10000 */
  attemptTimeoutMs?: number;
}

/** Options of every call. */
export interface CallOptions {
  /** Aborts the call: it rejects with `SignoffAbortError` (named `AbortError`). */
  signal?: AbortSignal;
}

/** Options of {@link SignoffClient.requireApproval}. */
export interface RequireApprovalOptions extends CallOptions {
  /** How long to wait for a decision, retries included. @defaultValue 600000 (10 minutes) */
  timeoutMs?: number;
  /** How long each long poll asks signoff to hold (at most 60). @defaultValue 50 */
  waitSeconds?: number;
  /** Called once the request is on record (e.g. to print its code), before waiting. */
  onCreated?(approval: ApprovalRecord): void;
}

/** What sources report: tasks, spend, heartbeats, notices (`POST /api/tasks|spend|heartbeats|notify`). */
export interface ReportClient {
  /** Create or update a task by `id`; absent optional fields keep their stored values. */
  task(input: TaskInput, options?: CallOptions): Promise<TaskRecord>;
  /** Record spend. Not resent after an attempt that may have landed, so it is never counted twice. */
  spend(input: SpendInput, options?: CallOptions): Promise<{ recorded: true; alerted: boolean }>;
  /** Say an agent is alive (or, with a status such as `down`, that it is not). */
  heartbeat(input: HeartbeatInput, options?: CallOptions): Promise<{ recorded: true }>;
  /** Push a notice to every operator. Like `spend`, never resent once it may have landed. */
  notify(input: NotifyInput, options?: CallOptions): Promise<{ queued: number }>;
}

/** A client for one signoff and one source token; see {@link createClient}. */
export interface SignoffClient {
  /**
   * Create the request and wait for its decision. Resolves to the decided record whatever the
   * decision (approved, rejected, changes requested, cancelled): check `status`. Throws
   * `SignoffTimeoutError` (carrying the pending record) when nobody decided within `timeoutMs`,
   * `SignoffTransportError` when signoff stayed unreachable, `SignoffRequestError` when the
   * request is refused (`problems` names the fields), `SignoffAbortError` when `signal` aborts.
   */
  requireApproval(input: ApprovalInput, options?: RequireApprovalOptions): Promise<DecidedApprovalRecord>;
  /** Create the request and return at once (`201` new, `200` the same idempotency key again). */
  createApproval(input: ApprovalInput, options?: CallOptions): Promise<ApprovalRecord>;
  /** Read a request; with `waitSeconds` (≤ 60) signoff holds the answer until it is decided or time is up. */
  getApproval(id: string, options?: CallOptions & { waitSeconds?: number }): Promise<ApprovalRecord>;
  /** Cancel a pending request; resolves to the record as it stands (already decided ones are left as they are). */
  cancel(id: string, options?: CallOptions): Promise<ApprovalRecord>;
  /** This source's pending requests, oldest first (at most 500). */
  listPending(options?: CallOptions): Promise<ApprovalRecord[]>;
  report: ReportClient;
}

const MAX_WAIT_SECONDS = 60;

/**
 * A client for signoff's HTTP API.
 *
 * @example
 * import { createClient } from "signoff/client";
 * const signoff = createClient({ url: process.env.SIGNOFF_URL, token: process.env.SIGNOFF_TOKEN });
 * const decision = await signoff.requireApproval({ title: "Deploy api to prod", gate: "medium" }, { timeoutMs: 600_000 });
 * if (decision.status !== "approved") process.exit(1);
 */
export function createClient(options: ClientOptions): SignoffClient {
  if (typeof options?.url !== "string" || !/^https?:\/\//i.test(options.url))
    throw new TypeError("signoff client: url must be an http(s) URL (SIGNOFF_URL)");
  if (typeof options.token !== "string" || options.token === "")
    throw new TypeError("signoff client: token is empty (SIGNOFF_TOKEN)");
  const fetchFn = options.fetch ?? globalThis.fetch;
  const retryBudgetMs = options.retryBudgetMs ?? 30_000;
  const transport = createTransport({
    url: options.url,
    token: options.token,
    fetch: fetchFn,
    attemptTimeoutMs: options.attemptTimeoutMs ?? 10_000,
  });

  async function send<T>(exchange: Omit<Exchange, "deadline"> & { deadline?: number }): Promise<T> {
    const answer = await transport.send<T>({ ...exchange, deadline: exchange.deadline ?? Date.now() + retryBudgetMs });
    return answer.body;
  }

  const approvalPath = (id: string) => `/api/approvals/${encodeURIComponent(id)}`;

  function createApproval(input: ApprovalInput, signal?: AbortSignal, deadline?: number) {
    // One key for every attempt of this call: a create whose answer was lost is found, not repeated.
    const body = { ...input, idempotencyKey: input.idempotencyKey ?? randomUUID() };
    return send<ApprovalRecord>({ method: "POST", path: "/api/approvals", body, signal, idempotent: true, deadline });
  }

  function getApproval(id: string, waitSeconds: number | undefined, signal?: AbortSignal, deadline?: number) {
    const query = waitSeconds === undefined ? "" : `?wait=${waitSeconds}`;
    return send<ApprovalRecord>({
      method: "GET",
      path: `${approvalPath(id)}${query}`,
      signal,
      idempotent: true,
      holdMs: (waitSeconds ?? 0) * 1000,
      deadline,
    });
  }

  async function requireApproval(
    input: ApprovalInput,
    opts: RequireApprovalOptions = {},
  ): Promise<DecidedApprovalRecord> {
    const timeoutMs = opts.timeoutMs ?? 600_000;
    const pollSeconds = Math.min(opts.waitSeconds ?? 50, MAX_WAIT_SECONDS);
    const deadline = Date.now() + timeoutMs;
    let approval = await createApproval(input, opts.signal, deadline);
    opts.onCreated?.(approval);
    try {
      while (approval.status === "pending") {
        // Tenths of a second, so the last poll ends close to the deadline.
        const wait = Math.floor(Math.min(pollSeconds, (deadline - Date.now()) / 1000) * 10) / 10;
        if (wait <= 0) throw new SignoffTimeoutError(approval, timeoutMs);
        approval = await getApproval(approval.id, wait, opts.signal, deadline);
      }
    } catch (error) {
      if (error instanceof SignoffTransportError || error instanceof SignoffAbortError) error.approvalId = approval.id;
      throw error;
    }
    return approval as DecidedApprovalRecord;
  }

  const post = <T>(path: string, body: unknown, idempotent: boolean, signal: AbortSignal | undefined) =>
    send<T>({ method: "POST", path, body, signal, idempotent });

  return {
    requireApproval,
    createApproval: (input, o) => createApproval(input, o?.signal),
    getApproval: (id, o) => getApproval(id, o?.waitSeconds, o?.signal),
    cancel: async (id, o) => {
      const body = await send<ApprovalRecord & { approval?: ApprovalRecord }>({
        method: "POST",
        path: `${approvalPath(id)}/cancel`,
        signal: o?.signal,
        idempotent: true,
        // 409 with the record: it was decided first. Without it: the cancel lost to contention.
        classify: (status, answer) =>
          status === 409 ? ((answer as { approval?: unknown } | null)?.approval ? "answer" : "retry") : undefined,
      });
      return body.approval ?? body;
    },
    listPending: (o) =>
      send<{ approvals: ApprovalRecord[] }>({
        method: "GET",
        path: "/api/approvals?status=pending&limit=500",
        signal: o?.signal,
        idempotent: true,
      }).then((body) => body.approvals),
    report: {
      task: (input, o) => post("/api/tasks", input, true, o?.signal),
      spend: (input, o) => post("/api/spend", input, false, o?.signal),
      heartbeat: (input, o) => post("/api/heartbeats", input, true, o?.signal),
      notify: (input, o) => post("/api/notify", input, false, o?.signal),
    },
  };
}
