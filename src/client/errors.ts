/**
 * What can go wrong when a requester talks to signoff, as distinct types so callers can act on
 * each: signoff said no to the request itself ({@link SignoffRequestError}: fix the request, do not
 * retry), signoff could not be reached or kept failing ({@link SignoffTransportError}: try later),
 * nobody decided in time ({@link SignoffTimeoutError}), or the caller gave up
 * ({@link SignoffAbortError}). A rejection is never an error: it is a decision. No message ever
 * holds the token.
 */
import type { ApprovalRecord } from "./types.js";

/** One thing wrong with a request, as signoff names it: `{ path: "approvers.quorum", message }`. */
export interface Problem {
  path: string;
  message: string;
}

/** Base of every error the client throws; `instanceof SignoffError` catches them all. */
export class SignoffError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SignoffError";
  }
}

/**
 * signoff answered the request with a refusal that resending will not change: `400` (the body is
 * invalid: see `problems`), `401` (the token), `403`, `404` (no such approval for this source),
 * `409` (e.g. a task id owned by another source).
 *
 * @example
 * catch (error) {
 *   if (error instanceof SignoffRequestError && error.status === 400) report(error.problems); // each names its field
 * }
 */
export class SignoffRequestError extends SignoffError {
  /** The HTTP status. */
  readonly status: number;
  /** signoff's machine-readable code, e.g. `invalid_body`, `unauthorized`, `not_found`. */
  readonly code: string;
  /** The fields to fix (empty when the refusal is not about fields). */
  readonly problems: readonly Problem[];

  constructor(status: number, code: string, message: string, problems: readonly Problem[]) {
    const fields = problems.map((p) => `${p.path}: ${p.message}`).join("; ");
    super(`signoff refused the request (${status} ${code}): ${fields || message}`);
    this.name = "SignoffRequestError";
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

/**
 * signoff could not be reached, or kept answering with a temporary failure (5xx, 429), until the
 * time allowed ran out. For a request already created, `approvalId` names it: it is still on
 * record and may be decided later.
 */
export class SignoffTransportError extends SignoffError {
  /** How many attempts were made. */
  readonly attempts: number;
  /** The last HTTP status seen, or `null` when the last attempt got no answer. */
  readonly status: number | null;
  /** The approval this concerned, when it had been created. */
  approvalId: string | undefined;

  constructor(message: string, details: { attempts: number; status: number | null; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "SignoffTransportError";
    this.attempts = details.attempts;
    this.status = details.status;
    this.approvalId = undefined;
  }
}

/**
 * No decision came within `timeoutMs`. The request stays pending on signoff (operators may still
 * decide it, or its own deadline applies); `approval` is the pending record last read, so the
 * caller can `cancel(approval.id)` if nobody should decide it any more.
 */
export class SignoffTimeoutError extends SignoffError {
  /** The request as last read: still `pending`. */
  readonly approval: ApprovalRecord;
  /** The time that was allowed. */
  readonly timeoutMs: number;

  constructor(approval: ApprovalRecord, timeoutMs: number) {
    super(`no decision on ${approval.code} within ${timeoutMs} ms`);
    this.name = "SignoffTimeoutError";
    this.approval = approval;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller's `signal` aborted. Named `AbortError` like the platform's own, so code that checks
 * `error.name === "AbortError"` treats it the same; `reason` is the signal's reason.
 */
export class SignoffAbortError extends SignoffError {
  /** `signal.reason`. */
  readonly reason: unknown;
  /** The approval this concerned, when it had been created. */
  approvalId: string | undefined;

  constructor(reason: unknown) {
    super("aborted by the caller");
    this.name = "AbortError";
    this.reason = reason;
    this.approvalId = undefined;
  }
}
