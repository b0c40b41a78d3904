/**
 * Builds the Telegram channel from configuration: webhook mode when a webhook URL is set, long
 * polling behind a Redis lease otherwise; registers the webhook route; syncs the command menu
 * after start. Kept here so the composition root stays a few lines.
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { createRedisLease } from "../../jobs/redis/lease.js";
import { createTelegramChannel, type TelegramChannel, type TelegramLogger } from "./telegram-channel.js";
import { SIGNOFF_COMMANDS } from "./telegram-commands.js";
import { registerTelegramWebhookRoute } from "./telegram-webhook.js";

/** What the composition root passes in (from the environment). */
export interface TelegramSetupOptions {
  token: string;
  apiRoot?: string | undefined;
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  /** BullMQ key prefix; the polling lease lives under it. */
  prefix: string;
  redis: Redis;
  logger: TelegramLogger;
}

/** The channel and the two hooks the composition root calls. */
export interface TelegramSetup {
  channel: TelegramChannel;
  /** Add the webhook route (webhook mode only); call before the server listens. */
  registerRoutes(app: FastifyInstance): void;
  /** After the channel started: publish the command menu if it changed. */
  afterStart(): Promise<void>;
}

/**
 * The lease key for long polling one bot token: the token's SHA-256, so the key (which shows
 * up in Redis tools and logs) does not reveal the token.
 *
 * @example telegramPollingLeaseKey("signoff", token) // "signoff:telegram:polling-lease:9f86d0…"
 */
export function telegramPollingLeaseKey(prefix: string, token: string): string {
  return `${prefix}:telegram:polling-lease:${createHash("sha256").update(token).digest("hex")}`;
}

/** Build the Telegram channel (webhook or lease-guarded polling) and its routes. */
export function setupTelegram(options: TelegramSetupOptions): TelegramSetup {
  const webhook =
    options.webhookUrl && options.webhookSecret
      ? { url: options.webhookUrl, secret: options.webhookSecret }
      : undefined;
  const channel = createTelegramChannel({
    token: options.token,
    apiRoot: options.apiRoot,
    logger: options.logger,
    webhook,
    lease: webhook
      ? undefined
      : createRedisLease(options.redis, { key: telegramPollingLeaseKey(options.prefix, options.token) }),
  });
  return {
    channel,
    registerRoutes(app) {
      if (webhook) registerTelegramWebhookRoute(app, channel, new URL(webhook.url).pathname);
    },
    async afterStart() {
      await channel
        .syncCommands(SIGNOFF_COMMANDS)
        .catch((err: unknown) =>
          options.logger.warn({ err: (err as Error).message }, "telegram command menu not synced"),
        );
    },
  };
}
