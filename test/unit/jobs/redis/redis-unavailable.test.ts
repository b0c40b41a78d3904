/**
 * Which errors mean Redis is down or unreachable (the API answers 503 naming redis) and which
 * are something else (a bug, a bad command: not a 503).
 */
import { describe, expect, it } from "vitest";
import { isRedisUnavailable } from "../../../../src/jobs/redis/connections.js";

describe("isRedisUnavailable", () => {
  it.each([
    [{ message: "Stream isn't writeable and enableOfflineQueue options is false" }],
    [{ message: "Connection is closed." }],
    [{ message: "Command timed out" }],
    [{ name: "MaxRetriesPerRequestError", message: "Reached the max retries per request limit (which is 20)" }],
    [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:6379" }],
    [{ code: "ECONNRESET", message: "read ECONNRESET" }],
    [{ code: "ETIMEDOUT", message: "" }],
    [{ code: "EPIPE", message: "write EPIPE" }],
    [{ code: "EHOSTUNREACH", message: "" }],
    [{ message: "LOADING Redis is loading the dataset in memory" }],
  ])("%o is Redis being unreachable", (error) => {
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it.each([
    [{ message: "ERR unknown command 'FOO'" }],
    [{ message: "WRONGTYPE Operation against a key holding the wrong kind of value" }],
    [new TypeError("cannot read properties of undefined")],
    [null],
    ["ECONNREFUSED"],
  ])("%o is not", (error) => {
    expect(isRedisUnavailable(error)).toBe(false);
  });
});
