/**
 * The one application error: a machine-readable `code`, an internal message for logs, a
 * `userMessage` safe to show in chat or an API response, and the HTTP status it maps to.
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

/** See the module comment. `retryable` tells job processors whether another attempt can help. */
export class AppError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly userMessage: string = message,
    readonly retryable = false,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
    this.statusCode = STATUS[code];
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
