/** Which job failures BullMQ is told not to retry. */
import { DelayedError, UnrecoverableError } from "bullmq";
import { describe, expect, it } from "vitest";
import { AppError, type AppErrorCode } from "../../../src/domain/errors.js";
import { failPermanentErrorsAtOnce, isPermanentJobError, toJobFailure } from "../../../src/jobs/job-errors.js";

/** An `AppError` with this code, or a plain error carrying the code when it is not an AppError code. */
const coded = (code: string, message = `${code} happened`): Error =>
  (["not_found", "invalid_body", "unauthorized", "forbidden", "conflict", "unavailable", "internal"] as const).includes(
    code as AppErrorCode,
  )
    ? new AppError({ code: code as AppErrorCode, message })
    : Object.assign(new Error(message), { code });

describe("isPermanentJobError", () => {
  it.each(["not_found", "invalid_body", "unauthorized", "forbidden"])("%s is permanent", (code) => {
    expect(isPermanentJobError(coded(code))).toBe(true);
  });

  it.each(["conflict", "unavailable", "internal", "ECONNREFUSED", "23505"])("%s may pass", (code) => {
    expect(isPermanentJobError(coded(code))).toBe(false);
  });

  it("treats errors that are not AppErrors as passing, whatever their code says", () => {
    expect(isPermanentJobError(Object.assign(new Error("x"), { code: "not_found" }))).toBe(false);
    expect(isPermanentJobError(new Error("connection terminated"))).toBe(false);
    expect(isPermanentJobError(Object.assign(new Error("x"), { code: 404 }))).toBe(false);
    expect(isPermanentJobError(null)).toBe(false);
    expect(isPermanentJobError("not_found")).toBe(false);
  });
});

describe("toJobFailure", () => {
  it("turns a permanent error into UnrecoverableError with the same message and the cause", () => {
    const error = coded("not_found", "approval 42 not found");
    const failure = toJobFailure(error);
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect((failure as Error).message).toBe("approval 42 not found");
    expect((failure as Error).cause).toBe(error);
  });

  it("returns every other error itself, BullMQ's own included", () => {
    for (const error of [new Error("down"), coded("conflict"), new DelayedError(), new UnrecoverableError("dead")])
      expect(toJobFailure(error)).toBe(error);
  });
});

describe("failPermanentErrorsAtOnce", () => {
  const job = {} as never;

  it("passes results and arguments through", async () => {
    const signal = new AbortController().signal;
    const wrapped = failPermanentErrorsAtOnce(async (j, token, s) => ({ j, token, s }));
    expect(await wrapped(job, "tok", signal)).toEqual({ j: job, token: "tok", s: signal });
  });

  it("throws UnrecoverableError for a permanent error and the error itself otherwise", async () => {
    await expect(
      failPermanentErrorsAtOnce(async () => {
        throw coded("forbidden");
      })(job),
    ).rejects.toBeInstanceOf(UnrecoverableError);
    const passing = new Error("PostgreSQL briefly down");
    await expect(
      failPermanentErrorsAtOnce(async () => {
        throw passing;
      })(job),
    ).rejects.toBe(passing);
  });
});
