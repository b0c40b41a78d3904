/**
 * The one application error: built from an options object, its HTTP status and whether a retry
 * can help both follow from the code, so no caller can mark a missing approval as retryable.
 */
import { describe, expect, it } from "vitest";
import { AppError, type AppErrorCode, isPermanent } from "../../../src/domain/errors.js";

describe("AppError", () => {
  it.each<[AppErrorCode, number, boolean]>([
    ["invalid_body", 400, true],
    ["unauthorized", 401, true],
    ["forbidden", 403, true],
    ["not_found", 404, true],
    ["conflict", 409, false],
    ["internal", 500, false],
    ["unavailable", 503, false],
  ])("%s is HTTP %i and permanent=%s", (code, status, permanent) => {
    const error = new AppError({ code, message: "internal detail" });
    expect(error.statusCode).toBe(status);
    expect(error.permanent).toBe(permanent);
    expect(isPermanent(code)).toBe(permanent);
  });

  it("shows the user message, keeps the internal one for logs, and carries details", () => {
    const error = new AppError({
      code: "not_found",
      message: "approval 42 not found",
      userMessage: "No such request.",
      details: [{ path: "id", message: "unknown" }],
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("AppError");
    expect(error.message).toBe("approval 42 not found");
    expect(error.userMessage).toBe("No such request.");
    expect(error.details).toEqual([{ path: "id", message: "unknown" }]);
  });

  it("uses the message as the user message when none is given", () => {
    expect(new AppError({ code: "conflict", message: "busy" }).userMessage).toBe("busy");
  });
});
