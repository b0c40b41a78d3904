/**
 * The chat side: which channels run (web chat only on loopback, Telegram and WhatsApp from the
 * environment, or channels a test passes in), each platform's pacing as its adapter declares it,
 * and the outbox every message goes through. The observers (log lines and metrics) are built
 * here too: the chat side is wired first, and every later part is handed it.
 */
import { setupTelegram, type TelegramSetup } from "../bot/telegram/telegram-setup.js";
import { createWebchatChannel, type WebchatChannel } from "../bot/webchat/webchat-channel.js";
import { type Config, isLoopbackHost } from "../config.js";
import type { Channel, ChannelName, Platforms } from "../domain/channel.js";
import { createBroadcaster } from "../handlers/chat/broadcast.js";
import type { OutboxJob } from "../domain/outbox.js";
import type { OperatorDirectory } from "../handlers/chat/operators.js";
import type { Renderer } from "../handlers/chat/render.js";
import { createChatRateLimiter } from "../jobs/chat-rate-limiter.js";
import { type ChannelPacing, createOutboxQueue } from "../jobs/outbox-queue.js";
import type { Logger } from "../logger.js";
import { createWhatsAppAuthStore, createWhatsAppMessageStore } from "../store/whatsapp-auth-store.js";
import type { Infrastructure } from "./infrastructure.js";
import { createObservability, type Observability } from "./observability.js";

/** The running channels and the outbox. */
export interface ChannelParts {
  channels: Map<ChannelName, Channel>;
  webchat: WebchatChannel | null;
  telegram: TelegramSetup | null;
  /** Channels that live in this process's memory (delivered directly, not through Redis). */
  localChannels: ReadonlySet<ChannelName>;
  pacing: Partial<Record<ChannelName, ChannelPacing>>;
  outbox: ReturnType<typeof createOutboxQueue>;
  /** Log lines and metrics of approvals, timers, deliveries, sends and channels. */
  observe: Observability;
}

/** What {@link wireChannels} needs besides the infrastructure. */
export interface ChannelWiring {
  config: Readonly<Config>;
  logger: Logger;
  directory: OperatorDirectory;
  renderer: Renderer;
  /** Each platform's facts; the pacing and group rule of Telegram and WhatsApp come from here. */
  platforms: Platforms;
  /** Channels built by the caller (e.g. Telegram against a fake Bot API). */
  injected: readonly Channel[];
  /** Performs an outbox job (the card presenter); late-bound, it is built after the outbox. */
  perform(job: OutboxJob): Promise<void>;
}

/** Build the channels and the outbox (not started yet). */
export async function wireChannels(infra: Infrastructure, wiring: ChannelWiring): Promise<ChannelParts> {
  const { env } = wiring.config;
  const { logger, directory } = wiring;
  const prefix = env.SIGNOFF_QUEUE_PREFIX;
  const channels = new Map<ChannelName, Channel>();
  const observe = createObservability(logger);

  // The web chat trusts whoever reaches it: never served on an address others can reach.
  const webchatAllowed = wiring.config.webchatEnabled && isLoopbackHost(env.HTTP_HOST);
  if (wiring.config.webchatEnabled && !webchatAllowed) {
    logger.warn({ host: env.HTTP_HOST }, "web chat is off: HTTP_HOST is not a loopback address");
  }
  const webchat = webchatAllowed
    ? createWebchatChannel({
        operators: () =>
          directory
            .all()
            .filter((o) => o.webchat)
            .map((o) => o.name),
      })
    : null;
  if (webchat) channels.set("webchat", webchat);
  for (const channel of wiring.injected) channels.set(channel.name, channel);

  const telegram =
    env.TELEGRAM_BOT_TOKEN && !channels.has("telegram")
      ? setupTelegram({
          token: env.TELEGRAM_BOT_TOKEN,
          apiRoot: env.TELEGRAM_API_ROOT,
          webhookUrl: env.TELEGRAM_WEBHOOK_URL,
          webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
          prefix,
          redis: infra.redis,
          logger: logger.child({ component: "telegram" }),
        })
      : null;
  if (telegram) channels.set("telegram", telegram.channel);

  // Loaded only when it is on: the WhatsApp library alone is ~60 MB of memory.
  const whatsapp =
    env.WHATSAPP_ENABLED && !channels.has("whatsapp")
      ? (await import("../bot/whatsapp/whatsapp-setup.js")).setupWhatsApp({
          authStore: createWhatsAppAuthStore(infra.db),
          messageStore: createWhatsAppMessageStore(infra.db),
          redis: infra.redis,
          prefix,
          pairingPhone: env.WHATSAPP_PAIRING_PHONE,
          logger: logger.child({ component: "whatsapp" }),
          onAlert: (text) => alertOwnersElsewhere(text),
        })
      : null;
  if (whatsapp) channels.set("whatsapp", whatsapp);

  // Limits are booked in Redis, so every process shares one calendar. WhatsApp's are for the real
  // socket only; a test that injects a fake WhatsApp channel is not slowed down.
  const paced: ChannelName[] = ["telegram", ...(whatsapp ? (["whatsapp"] as const) : [])];
  const pacing: Partial<Record<ChannelName, ChannelPacing>> = {};
  for (const name of paced) {
    const { pacing: limits, isGroup } = wiring.platforms[name];
    if (!limits) continue;
    pacing[name] = {
      limiter: createChatRateLimiter(infra.producer, {
        prefix: `${prefix}:${name}-rate`,
        globalPerSecond: limits.globalPerSecond,
        perChatIntervalMs: limits.perChatIntervalMs,
        ...(limits.groupPerMinute ? { groupPerMinute: limits.groupPerMinute } : {}),
      }),
      isGroup,
      ...(limits.jitterMs ? { jitterMs: limits.jitterMs } : {}),
    };
  }

  const localChannels = new Set<ChannelName>(webchat ? ["webchat"] : []);
  const outbox = createOutboxQueue(infra.producer, prefix, new Set(Object.keys(pacing) as ChannelName[]), {
    channels: localChannels,
    perform: observe.countSends((job) => wiring.perform(job)),
    onError: (err, job) =>
      logger.warn({ err: (err as Error).message, op: job.op, channel: "webchat" }, "web chat delivery failed"),
  });
  outbox.queue.on("error", (err) =>
    infra.outageLog.warn("queue:outbox", { queue: "outbox", err: err.message }, "queue error"),
  );

  // WhatsApp lost (logged out, replaced): the owners hear of it on every other channel.
  const elsewhere = createBroadcaster({
    directory,
    channels: () => [...channels.keys()].filter((name) => name !== "whatsapp"),
    renderer: wiring.renderer,
    enqueue: outbox.enqueue,
  });
  async function alertOwnersElsewhere(text: string): Promise<void> {
    await elsewhere.toOperators((o) => o.roles.includes("owner"), "channel-alert", { text });
  }

  return { channels, webchat, telegram, localChannels, pacing, outbox, observe };
}
