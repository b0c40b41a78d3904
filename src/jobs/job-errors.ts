/**
 * Which job failures are worth another attempt. A job whose approval is gone, or whose input was
 * refused, fails the same way on every retry: BullMQ is told so with `UnrecoverableError` and the
 * job fails at once, instead of retrying for minutes and burying real outages in the logs.
 * Anything else (PostgreSQL down, a lost compare-and-set, a network error) is rethrown as is and
 * retried with the queue's backoff.
 */
import { type Processor, UnrecoverableError } from "bullmq";
import { AppError } from "../domain/errors.js";

/** Whether `error` is an `AppError` whose code no retry can change (see `isPermanent`). */
export function isPermanentJobError(error: unknown): boolean {
  return error instanceof AppError && error.permanent;
}

/**
 * What a processor should throw for `error`: an `UnrecoverableError` with the same message when
 * it is permanent, otherwise `error` itself (so BullMQ's own `DelayedError` and
 * `UnrecoverableError` pass through untouched).
 */
export function toJobFailure(error: unknown): unknown {
  if (!isPermanentJobError(error)) return error;
  const failure = new UnrecoverableError((error as Error).message);
  failure.cause = error;
  return failure;
}

/**
 * Wrap a BullMQ processor so permanent errors fail the job on the first attempt.
 *
 * @example
 * new Worker(name, failPermanentErrorsAtOnce(async (job) => runHealthCheck(job.data.check)), opts)
 */
export function failPermanentErrorsAtOnce<T, R>(processor: Processor<T, R>): Processor<T, R> {
  return async (job, token, signal) => {
    try {
      return await processor(job, token, signal);
    } catch (error) {
      throw toJobFailure(error);
    }
  };
}
