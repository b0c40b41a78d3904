/**
 * The one application error: a machine-readable `code`, an internal message for logs, a
 * `userMessage` safe to show in chat or an API response, and the HTTP status it maps to.
 * Whether trying again can help follows from the code alone.
 *
 * @example
 * throw new AppError({ code: "not_found", message: `approval ${id} not found`, userMessage: "No such request." });
 */
export type AppErrorCode =
  | "invalid_body"
  | "unauthorized"
  | "not_found"
  | "conflict"
  | "forbidden"
  | "unavailable"
  | "internal";

const STATUS: Record<AppErrorCode, number> = {
  invalid_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

// The same request fails the same way however often it is sent; a conflict (contention), an
// unreachable dependency or an unexpected fault may pass on another attempt.
const PERMANENT: Record<AppErrorCode, boolean> = {
  invalid_body: true,
  unauthorized: true,
  forbidden: true,
  not_found: true,
  conflict: false,
  unavailable: false,
  internal: false,
};

/** Whether an error with this code fails again on retry (so a job processor should not retry it). */
export function isPermanent(code: AppErrorCode): boolean {
  return PERMANENT[code];
}

/** What {@link AppError} is built from. */
export interface AppErrorOptions {
  code: AppErrorCode;
  /** For logs; may name ids and internals. */
  message: string;
  /** Safe to show a chat user or an API caller. @defaultValue the `message` */
  userMessage?: string | undefined;
  /** Structured detail for the caller, e.g. the API's `problems` list. */
  details?: unknown;
}

/** See the module comment. */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly userMessage: string;
  readonly details: unknown;
  readonly statusCode: number;
  constructor(options: AppErrorOptions) {
    super(options.message);
    this.name = "AppError";
    this.code = options.code;
    this.userMessage = options.userMessage ?? options.message;
    this.details = options.details;
    this.statusCode = STATUS[options.code];
  }

  /** Whether another attempt fails the same way; see {@link isPermanent}. */
  get permanent(): boolean {
    return isPermanent(this.code);
  }
}

/**
 * Start-up cannot go on (a dependency unreachable, a port taken). The message names the
 * environment variable to fix and never holds a secret.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}
