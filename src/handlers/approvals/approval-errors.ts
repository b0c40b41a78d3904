/**
 * The errors approval use cases answer with, each with the short line an operator or source is
 * shown (`userMessage`) beside the one that is logged.
 */
import { AppError } from "../../domain/errors.js";

/** No approval with this id (also what another source's request looks like). */
export function notFound(approvalId: string): AppError {
  return new AppError({
    code: "not_found",
    message: `approval ${approvalId} not found`,
    userMessage: "No such request.",
  });
}

/** Other writers kept changing the approval first, every one of the tries. */
export function tooMuchContention(approvalId: string): AppError {
  return new AppError({
    code: "conflict",
    message: `approval ${approvalId}: too much contention`,
    userMessage: "Busy, please try again.",
  });
}

/** Every code tried was taken by a pending request. */
export function noFreeCode(): AppError {
  return new AppError({
    code: "conflict",
    message: "could not allocate an approval code",
    userMessage: "Busy, please try again.",
  });
}

/**
 * A repeated idempotency key asks to run something else: approving one payload must never stand
 * for another, so that is a `409` naming `payload`.
 */
export function payloadMismatch(storedId: string): AppError {
  const message = "idempotencyKey reused with a different payload";
  return new AppError({
    code: "conflict",
    message: `approval ${storedId}: ${message}`,
    userMessage: message,
    details: [{ path: "payload", message }],
  });
}
