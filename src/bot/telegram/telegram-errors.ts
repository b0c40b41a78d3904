/**
 * Turns grammY failures into {@link ChannelError}s the outbox can act on, and keeps the bot
 * token out of every message: grammY's `HttpError` wraps the fetch error, whose text holds the
 * request URL `…/bot<token>/<method>`.
 */
import { GrammyError, HttpError, type Transformer } from "grammy";
import { ChannelError } from "../../domain/channel.js";

const REDACTED = "<redacted>";
// Anything shaped like a bot token (digits, colon, 30+ url-safe chars), in case a different
// token than ours shows up, e.g. in a proxied error.
const TOKEN_SHAPE = /\d{5,}(?::|%3A)[A-Za-z0-9_-]{30,}/gi;

/**
 * Removes the token (plain or URL-encoded) and anything token-shaped from a text.
 *
 * @example scrubToken("request to http://x/bot123:abc/getMe failed", "123:abc") // "request to http://x/bot<redacted>/getMe failed"
 */
export function scrubToken(text: string, token: string): string {
  let out = text;
  for (const form of [token, encodeURIComponent(token)]) if (form) out = out.split(form).join(REDACTED);
  return out.replace(TOKEN_SHAPE, REDACTED);
}

/**
 * Classifies a failed Bot API call: 429 retryable after `retry_after`, other 4xx permanent
 * (bad request, blocked by the user, chat gone), 5xx and network failures retryable.
 *
 * @example
 * try { await bot.api.sendMessage(id, text) } catch (err) { throw toChannelError(err, "sendMessage", token) }
 */
export function toChannelError(err: unknown, method: string, token: string): ChannelError {
  if (err instanceof ChannelError) return err;
  if (err instanceof GrammyError) {
    const text = scrubToken(`telegram ${method} failed: ${err.error_code} ${err.description}`, token);
    if (err.error_code === 429) {
      const retryAfter = err.parameters.retry_after;
      return new ChannelError(text, false, retryAfter === undefined ? undefined : retryAfter * 1000);
    }
    return new ChannelError(text, err.error_code >= 400 && err.error_code < 500);
  }
  if (err instanceof HttpError) {
    return new ChannelError(
      scrubToken(`telegram ${method} failed: network error (${describe(err.error)})`, token),
      false,
    );
  }
  return new ChannelError(scrubToken(`telegram ${method} failed: ${describe(err)}`, token), false);
}

/**
 * A grammY API transformer that replaces every `HttpError` with one whose message and inner
 * error are scrubbed, so nothing downstream (grammY, the runner, our logs) can print the token.
 */
export function scrubHttpErrors(token: string): Transformer {
  return async (prev, method, payload, signal) => {
    try {
      return await prev(method, payload, signal);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      const inner = new Error(scrubToken(describe(err.error), token));
      const code = (err.error as { code?: unknown } | null)?.code;
      if (typeof code === "string") Object.assign(inner, { code });
      throw new HttpError(scrubToken(err.message, token), inner);
    }
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
