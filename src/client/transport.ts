/**
 * One exchange with signoff's HTTP API, tried again while another attempt can help: when signoff
 * is unreachable, answers 5xx (503 with `Retry-After` while its database is down) or 429, with
 * exponential backoff inside the caller's time budget. A request that is not safe to send twice
 * (a spend record, a notice) is resent only when the earlier attempt certainly did not land.
 * Refusals (4xx) are never retried. Errors name signoff's origin, never the token.
 */
import {
  type Problem,
  SignoffAbortError,
  type SignoffError,
  SignoffRequestError,
  SignoffTransportError,
} from "./errors.js";

/** How a {@link Transport} reaches signoff and paces its retries. */
export interface TransportOptions {
  /** signoff's base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The source's bearer token. */
  token: string;
  fetch: typeof globalThis.fetch;
  /** How long one attempt may take beyond the time signoff is asked to hold it. */
  attemptTimeoutMs: number;
  /** First backoff delay, doubled per failed attempt up to `maxBackoffMs`. @defaultValue 200 */
  initialBackoffMs?: number;
  /** @defaultValue 5000 */
  maxBackoffMs?: number;
  /** Replaceable for tests that check the delays without waiting them. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/** One request and how to treat its failures. */
export interface Exchange {
  method: "GET" | "POST";
  /** Path and query, e.g. `/api/approvals/<id>?wait=50`. */
  path: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Epoch ms after which no further attempt is started (the first one always is). */
  deadline: number;
  /** Whether sending it twice is harmless (an idempotency key, an upsert, a read). */
  idempotent: boolean;
  /** How long signoff is asked to hold the request (a long poll), added to the attempt timeout. */
  holdMs?: number;
  /** Per-route reading of a non-2xx answer: take it as the answer, or try again. */
  classify?(status: number, body: unknown): "answer" | "retry" | undefined;
}

/** A parsed answer. */
export interface Answer<T> {
  status: number;
  body: T;
}

/** Sends {@link Exchange}s; see the module comment. */
export interface Transport {
  send<T>(exchange: Exchange): Promise<Answer<T>>;
}

type Attempt =
  | { kind: "answer"; status: number; body: unknown }
  | { kind: "refused"; error: SignoffError }
  | {
      kind: "failed";
      status: number | null;
      landed: boolean;
      retryAfterMs: number | null;
      reason: string;
      cause?: unknown;
    };

// Connection failures before any byte of the request left: resending cannot make it happen twice.
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Whether a fetch failure happened before the request could reach the server. */
function neverSent(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.cause?.code ?? e?.code;
  return typeof code === "string" && NOT_SENT.has(code);
}

/** `Retry-After` in ms (delta seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** Wait `ms`, or reject with {@link SignoffAbortError} as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new SignoffAbortError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SignoffAbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function problemsOf(body: unknown): Problem[] {
  const list = (body as { problems?: unknown } | null)?.problems;
  if (!Array.isArray(list)) return [];
  return list
    .filter((p): p is Problem => typeof p?.path === "string" && typeof p?.message === "string")
    .map(({ path, message }) => ({ path, message }));
}

function refusal(status: number, body: unknown): SignoffRequestError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown };
  const code = typeof b.error === "string" ? b.error : "http_error";
  const message = typeof b.message === "string" ? b.message : `HTTP ${status}`;
  return new SignoffRequestError(status, code, message, problemsOf(body));
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: text === "" ? null : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Build a transport to one signoff. */
export function createTransport(options: TransportOptions): Transport {
  const base = options.url.replace(/\/+$/, "");
  // The origin leaves out any user:password a URL may carry.
  const origin = new URL(base).origin;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;

  async function attempt(exchange: Exchange): Promise<Attempt> {
    const { signal } = exchange;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        controller.abort();
      },
      options.attemptTimeoutMs + (exchange.holdMs ?? 0),
    );
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await options.fetch(`${base}${exchange.path}`, {
        method: exchange.method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: "application/json",
          ...(exchange.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(exchange.body === undefined ? {} : { body: JSON.stringify(exchange.body) }),
        signal: controller.signal,
      });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw new SignoffAbortError(signal.reason);
      const reason = timedOut ? "no answer in time" : ((error as Error)?.message ?? String(error));
      return {
        kind: "failed",
        status: null,
        landed: timedOut || !neverSent(error),
        retryAfterMs: null,
        reason,
        cause: error,
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }

    const parsed = parseJson(text);
    const body = parsed.ok ? parsed.value : null;
    if (status >= 200 && status < 300) {
      if (parsed.ok) return { kind: "answer", status, body };
      return {
        kind: "refused",
        error: new SignoffTransportError(`signoff at ${origin} answered ${status} with a body that is not JSON`, {
          attempts: 1,
          status,
        }),
      };
    }
    const verdict = exchange.classify?.(status, body);
    if (verdict === "answer") return { kind: "answer", status, body };
    const temporary = verdict === "retry" || status >= 500 || status === 429 || status === 408;
    if (!temporary) return { kind: "refused", error: refusal(status, body) };
    return {
      kind: "failed",
      status,
      // 503, 429 and 408 say the request was not acted on; another 5xx may come after it was.
      landed: !(status === 503 || status === 429 || status === 408 || verdict === "retry"),
      retryAfterMs: parseRetryAfter(retryAfter, now()),
      reason: `answered ${status}`,
    };
  }

  return {
    async send<T>(exchange: Exchange): Promise<Answer<T>> {
      for (let attempts = 1; ; attempts++) {
        if (exchange.signal?.aborted) throw new SignoffAbortError(exchange.signal.reason);
        const outcome = await attempt(exchange);
        if (outcome.kind === "answer") return { status: outcome.status, body: outcome.body as T };
        if (outcome.kind === "refused") throw outcome.error;
        const giveUp = (why: string) =>
          new SignoffTransportError(`signoff at ${origin}: ${outcome.reason} (${attempts} attempts${why})`, {
            attempts,
            status: outcome.status,
            cause: outcome.cause,
          });
        if (outcome.landed && !exchange.idempotent) throw giveUp("; not resent, it may have been recorded");
        const backoff = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempts - 1)) * (0.5 + random() / 2);
        const delay = outcome.retryAfterMs ?? backoff;
        if (now() + delay > exchange.deadline) throw giveUp("; out of time");
        await sleep(delay, exchange.signal);
      }
    },
  };
}
