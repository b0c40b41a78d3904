/**
 * The client's retries, against a scripted fetch and a fake clock: what is retried and after how
 * long (Retry-After honoured, backoff doubling), what is never resent, what is refused at once,
 * and that no error text carries the token.
 */
import { describe, expect, it } from "vitest";
import { SignoffAbortError, SignoffRequestError, SignoffTransportError } from "../../../src/client/errors.js";
import { type Exchange, createTransport, parseRetryAfter } from "../../../src/client/transport.js";

const TOKEN = "secret-token-never-shown";

type Step = Response | Error;

/** A fetch that plays `steps` in order (the last one repeats) and records each call. */
function scripted(steps: Step[]) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const step = steps[Math.min(calls.length - 1, steps.length - 1)]!;
    if (step instanceof Error) throw step;
    return step.clone();
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

/** A fetch failure as undici reports it, with the system error code underneath. */
const netError = (code: string) => Object.assign(new TypeError("fetch failed"), { cause: { code } });

function setup(steps: Step[]) {
  const { fetch, calls } = scripted(steps);
  let clock = 1_000_000;
  const slept: number[] = [];
  const transport = createTransport({
    url: "http://signoff.test:8080/",
    token: TOKEN,
    fetch,
    attemptTimeoutMs: 1000,
    now: () => clock,
    random: () => 1, // no jitter: delays are exactly the backoff
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
  });
  const send = (overrides: Partial<Exchange> = {}) =>
    transport.send({
      method: "POST",
      path: "/api/x",
      body: { a: 1 },
      idempotent: true,
      deadline: clock + 30_000,
      ...overrides,
    });
  return { send, calls, slept };
}

describe("client transport", () => {
  it("sends the token, the JSON body and the path, and returns the parsed answer", async () => {
    const { send, calls } = setup([json(201, { id: "a1" })]);
    await expect(send()).resolves.toEqual({ status: 201, body: { id: "a1" } });
    expect(calls[0]!.url).toBe("http://signoff.test:8080/api/x");
    expect(calls[0]!.init.body).toBe('{"a":1}');
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("waits what Retry-After says on a 503, then succeeds", async () => {
    const { send, calls, slept } = setup([
      json(503, { error: "unavailable" }, { "retry-after": "2" }),
      json(200, { ok: 1 }),
    ]);
    await expect(send()).resolves.toMatchObject({ status: 200 });
    expect(calls).toHaveLength(2);
    expect(slept).toEqual([2000]);
  });

  it("backs off doubling on network errors, and gives up with a typed error when time runs out", async () => {
    const { send, calls, slept } = setup([netError("ECONNRESET")]);
    const error = await send({ deadline: 1_000_000 + 3500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignoffTransportError);
    expect(slept).toEqual([200, 400, 800, 1600]);
    expect(calls).toHaveLength(5);
    expect((error as SignoffTransportError).attempts).toBe(5);
    expect((error as SignoffTransportError).status).toBeNull();
    expect((error as Error).message).toContain("signoff.test:8080");
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it("refuses 400 at once with the problems, never retrying", async () => {
    const problems = [{ path: "gate", message: "Invalid option" }];
    const { send, calls } = setup([json(400, { error: "invalid_body", message: "invalid body", problems })]);
    const error = (await send().catch((e: unknown) => e)) as SignoffRequestError;
    expect(error).toBeInstanceOf(SignoffRequestError);
    expect(error).toMatchObject({ status: 400, code: "invalid_body", problems });
    expect(error.message).toContain("gate: Invalid option");
    expect(calls).toHaveLength(1);
  });

  it("never resends a request that is not idempotent once it may have landed", async () => {
    for (const step of [netError("ECONNRESET"), json(502, {}), json(500, { error: "internal" })]) {
      const { send, calls } = setup([step, json(201, { recorded: true })]);
      const error = await send({ idempotent: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SignoffTransportError);
      expect((error as Error).message).toContain("not resent");
      expect(calls).toHaveLength(1);
    }
  });

  it("resends a request that is not idempotent when it certainly did not land (refused connection, 503, 429)", async () => {
    for (const step of [netError("ECONNREFUSED"), json(503, {}), json(429, {})]) {
      const { send, calls } = setup([step, json(201, { recorded: true })]);
      await expect(send({ idempotent: false })).resolves.toMatchObject({ status: 201 });
      expect(calls).toHaveLength(2);
    }
  });

  it("lets a route read a non-2xx answer as its answer, or as worth another try", async () => {
    const answered = setup([json(409, { error: "conflict", approval: { id: "a" } })]);
    await expect(answered.send({ classify: () => "answer" })).resolves.toMatchObject({ status: 409 });
    const retried = setup([json(409, { error: "conflict" }), json(200, { id: "a" })]);
    await expect(retried.send({ classify: (s) => (s === 409 ? "retry" : undefined) })).resolves.toMatchObject({
      status: 200,
    });
    expect(retried.calls).toHaveLength(2);
  });

  it("reports a 2xx that is not JSON as a transport problem, not as an answer", async () => {
    const { send } = setup([new Response("<html>proxy</html>", { status: 200 })]);
    await expect(send()).rejects.toBeInstanceOf(SignoffTransportError);
  });

  it("stops with an AbortError when the caller's signal aborts", async () => {
    const controller = new AbortController();
    controller.abort(new Error("user pressed ctrl-c"));
    const { send, calls } = setup([json(200, {})]);
    const error = await send({ signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignoffAbortError);
    expect((error as Error).name).toBe("AbortError");
    expect(calls).toHaveLength(0);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and ignores what it cannot read", () => {
    expect(parseRetryAfter("5", 0)).toBe(5000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});
