/**
 * Webhook mode (`TELEGRAM_WEBHOOK_URL`; any process may take updates): Telegram POSTs each update to signoff with
 * the secret set by `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`. Any process behind the
 * URL may take any update; the channel answers as soon as the update is queued.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Update } from "grammy/types";

/** The header Telegram puts the webhook secret in (lower-case, as Node presents headers). */
export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

/** Telegram's rule for `secret_token`. */
const SECRET_SHAPE = /^[A-Za-z0-9_-]{1,256}$/;

/** Webhook settings of the Telegram channel. */
export interface TelegramWebhookOptions {
  /** Public HTTPS URL Telegram posts to; it should route to {@link registerTelegramWebhookRoute}'s path. */
  url: string;
  /** 1-256 of A-Z a-z 0-9 _ -; Telegram sends it back with every update. Never logged. */
  secret: string;
}

/** Throws when the secret cannot be a Telegram `secret_token`. */
export function assertWebhookSecret(secret: string): void {
  if (!SECRET_SHAPE.test(secret)) throw new Error("telegram webhook secret must be 1-256 of A-Z a-z 0-9 _ -");
}

/**
 * Compares the header with the secret in constant time (both hashed first, so neither the
 * content nor the length leaks through timing).
 *
 * @example webhookSecretMatches(request.headers[SECRET_HEADER], secret)
 */
export function webhookSecretMatches(header: string | undefined, secret: string): boolean {
  if (header === undefined) return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(header), digest(secret));
}

/** Whether a webhook body looks like an update (an object with a non-negative integer `update_id`). */
export function isUpdate(body: unknown): body is Update {
  if (typeof body !== "object" || body === null) return false;
  const id = (body as { update_id?: unknown }).update_id;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0;
}

/** The part of the Telegram channel the route needs. */
export interface WebhookReceiver {
  handleWebhook(body: unknown, secretHeader: string | undefined): Promise<{ status: number }>;
}

/**
 * Adds `POST path` to the HTTP server (before it listens): the body and secret header go to the
 * channel, whose status is the answer (200 queued, 401 wrong secret, 400 not an update,
 * 503 not started or stopping, so Telegram retries later). The body is empty: a JSON body
 * with a `method` would be run by Telegram as a webhook reply.
 *
 * @example
 * const telegram = createTelegramChannel({ token, logger, webhook: { url, secret } });
 * registerTelegramWebhookRoute(http, telegram);
 */
export function registerTelegramWebhookRoute(
  app: FastifyInstance,
  channel: WebhookReceiver,
  path = "/telegram/webhook",
): void {
  app.post(path, async (request, reply) => {
    const header = request.headers[SECRET_HEADER];
    const { status } = await channel.handleWebhook(request.body, typeof header === "string" ? header : undefined);
    return reply.code(status).send();
  });
}
