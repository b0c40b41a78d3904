/**
 * The Telegram {@link Channel}: grammY for the Bot API; updates come by long polling
 * (`@grammyjs/runner`, optionally behind a Redis lease) or by webhook. Either way they go through
 * the same middleware, one chat in order. This directory is the only place that imports grammY.
 */
import { sequentialize } from "@grammyjs/runner";
import { Bot, BotError, GrammyError, type Context } from "grammy";
import type { InlineKeyboardMarkup, Update } from "grammy/types";
import {
  ChannelError,
  type CardButton,
  type Channel,
  type ChannelHealth,
  type InboundHandler,
  type MessageRef,
  type OutboundMessage,
} from "../../domain/channel.js";
import { assertValidCommands, sameCommands, type BotCommandSpec } from "./telegram-commands.js";
import { scrubHttpErrors, scrubToken, toChannelError } from "./telegram-errors.js";
import { ALLOWED_UPDATES, toInboundEvent } from "./telegram-inbound.js";
import type { Lease } from "../../jobs/redis/lease.js";
import type { TelegramLogger } from "./telegram-logger.js";
import { createPoller } from "./telegram-polling.js";
import { splitTelegramText } from "./telegram-split.js";
import { toBotReaction } from "./telegram-reactions.js";
import {
  assertWebhookSecret,
  isUpdate,
  webhookSecretMatches,
  type TelegramWebhookOptions,
} from "./telegram-webhook.js";

export type { TelegramLogger } from "./telegram-logger.js";

/** Options of {@link createTelegramChannel}. */
export interface TelegramChannelOptions {
  /** Bot token from BotFather; never logged, and scrubbed from every error text. */
  token: string;
  /**
   * Bot API root without a trailing slash (a local Bot API server, or a test fake). @defaultValue
   * "https://api.telegram.org"
   */
  apiRoot?: string;
  logger: TelegramLogger;
  /** How long one getUpdates call waits for updates. @defaultValue 30 */
  pollingTimeoutSeconds?: number;
  /** Give up on one send/edit/react/answer call after this long (then retryable). @defaultValue 15000 */
  requestTimeoutMs?: number;
  /**
   * Webhook mode: `start` calls setWebhook instead of polling; updates arrive via {@link
   * TelegramChannel.handleWebhook}.
   */
  webhook?: TelegramWebhookOptions | undefined;
  /** Polling mode: poll only while holding this lease (see `createRedisLease`, `telegramPollingLeaseKey`). */
  lease?: Lease | undefined;
  /** How often a process without the lease tries to take it. @defaultValue 3000 */
  leaseRetryMs?: number;
}

/** The Telegram channel: a {@link Channel} plus webhook intake and the command menu. */
export interface TelegramChannel extends Channel {
  readonly name: "telegram";
  /**
   * Takes one webhook POST: 401 unless `secretHeader` is the webhook secret, 400 if the body is
   * not an update, 503 when not started (or stopping) so Telegram retries, 404 in polling mode;
   * otherwise queues the update behind earlier ones of its chat and answers 200 at once.
   */
  handleWebhook(body: unknown, secretHeader: string | undefined): Promise<{ status: number }>;
  /** Sets the command menu unless Telegram already has exactly this list; true when it was set. */
  syncCommands(commands: readonly BotCommandSpec[]): Promise<boolean>;
}

/**
 * grammY types signals with the abort-controller polyfill; native ones fit at runtime (it only listens
 * for "abort").
 */
type ApiSignal = Parameters<Bot["api"]["sendMessage"]>[3];

const TOAST_MAX = 200; // answerCallbackQuery text limit
const CALLBACK_DATA_MAX_BYTES = 64;

/**
 * Creates the Telegram channel. Sends work before {@link Channel.start}; `start` begins long
 * polling (or sets the webhook) and delivers text, reactions and button presses to the handler,
 * one chat in order. An update has the event id `tg:<update_id>` however it arrived.
 *
 * @example
 * const telegram = createTelegramChannel({ token: config.telegramBotToken, logger });
 * await telegram.start(async (event) => handleInbound(event));
 * const ref = await telegram.send("123456789", { text: "<b>K7QF</b> deploy?", buttons: [{ label: "✅", data: "a:K7QF" }] });
 */
export function createTelegramChannel(options: TelegramChannelOptions): TelegramChannel {
  const { token, webhook } = options;
  if (webhook) assertWebhookSecret(webhook.secret);
  const logger = options.logger.child({ channel: "telegram" });
  const pollingTimeout = options.pollingTimeoutSeconds ?? 30;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;

  // grammY's client timeout applies to every call, so it must outlast one long poll; sends get
  // their own, shorter timeout through an AbortSignal.
  const bot = new Bot(token, {
    client: { ...(options.apiRoot ? { apiRoot: options.apiRoot } : {}), timeoutSeconds: pollingTimeout + 15 },
  });
  // Installed first so it sits closest to the network: every layer above sees scrubbed errors.
  bot.api.config.use(scrubHttpErrors(token));
  // The runner retries getUpdates by itself; it is started silent (it would print to stderr), so
  // its failures are logged here instead.
  bot.api.config.use(async (prev, method, payload, signal) => {
    if (method !== "getUpdates") return prev(method, payload, signal);
    try {
      const response = await prev(method, payload, signal);
      if (!response.ok) {
        logger.warn(
          { errorCode: response.error_code, description: response.description },
          "telegram getUpdates refused",
        );
      }
      return response;
    } catch (err) {
      if (!signal?.aborted) logger.warn({ error: scrubToken(String(err), token) }, "telegram getUpdates failed");
      throw err;
    }
  });

  let onInbound: InboundHandler | undefined;
  let started = false;
  let accepting = false; // webhook intake open
  let lastUpdateAt: Date | undefined;
  const inFlight = new Set<Promise<void>>();
  const webhookTasks = new Set<Promise<void>>();

  const timeoutSignal = (): ApiSignal => AbortSignal.timeout(requestTimeoutMs) as unknown as ApiSignal;

  /** Runs a Bot API call with a timeout and turns its failure into a ChannelError. */
  async function call<T>(method: string, fn: (signal: ApiSignal) => Promise<T>): Promise<T> {
    try {
      return await fn(timeoutSignal());
    } catch (err) {
      throw toChannelError(err, method, token);
    }
  }

  async function handleUpdate(update: Update): Promise<void> {
    lastUpdateAt = new Date();
    const event = toInboundEvent(update, lastUpdateAt);
    const log = logger.child({ eventId: `tg:${update.update_id}`, chatId: event?.chatId });
    const query = update.callback_query;
    let answered = false;
    // Telegram shows a spinner on the button until the query is answered, so it is answered
    // exactly once: by the handler with a toast, or by us with nothing once the handler is done.
    const answer = async (toast: string): Promise<void> => {
      if (!query || answered) return;
      answered = true;
      const text = toast.slice(0, TOAST_MAX);
      await call("answerCallbackQuery", (signal) =>
        bot.api.answerCallbackQuery(query.id, text ? { text } : {}, signal),
      );
    };
    try {
      if (!event) log.debug({ updateKeys: Object.keys(update) }, "telegram update ignored");
      else if (onInbound) await onInbound(event.kind === "button" ? { ...event, answer } : event);
    } catch (err) {
      // A failing handler must not stop polling or hold up other chats; the event is lost to
      // this process, which is logged loudly.
      log.error({ err }, "inbound handler failed");
    } finally {
      if (query && !answered) {
        await answer("").catch((err: unknown) => log.warn({ err }, "answerCallbackQuery failed"));
      }
    }
  }

  bot.use(sequentialize((ctx: Context) => (ctx.chat ? String(ctx.chat.id) : undefined)));
  bot.use(async (ctx) => {
    const task = handleUpdate(ctx.update);
    inFlight.add(task);
    try {
      await task;
    } finally {
      inFlight.delete(task);
    }
  });
  bot.catch((err) => logger.error({ error: scrubToken(String(err.error), token) }, "telegram middleware failed"));

  const poller = createPoller({
    bot,
    token,
    logger,
    pollingTimeoutSeconds: pollingTimeout,
    // getUpdates answers 409 while a webhook is set; polling mode means no webhook.
    deleteWebhook: async () => void (await call("deleteWebhook", (signal) => bot.api.deleteWebhook({}, signal))),
    lease: options.lease,
    leaseRetryMs: options.leaseRetryMs ?? 3_000,
  });

  return {
    name: "telegram",

    async start(handler: InboundHandler): Promise<void> {
      if (started) throw new Error("telegram channel already started");
      try {
        await bot.init(); // getMe: a wrong token fails the start instead of the first poll
      } catch (err) {
        throw toChannelError(err, "getMe", token);
      }
      onInbound = handler;
      started = true;
      try {
        if (webhook) {
          accepting = true;
          // Every process sets the same webhook; pending updates are kept for whoever answers.
          await call("setWebhook", (signal) =>
            bot.api.setWebhook(
              webhook.url,
              { secret_token: webhook.secret, allowed_updates: [...ALLOWED_UPDATES], drop_pending_updates: false },
              signal,
            ),
          );
          logger.info({ bot: bot.botInfo.username }, "telegram webhook set");
        } else {
          await poller.start();
        }
      } catch (err) {
        started = accepting = false;
        onInbound = undefined;
        throw err;
      }
    },

    async stop(): Promise<void> {
      if (!started) return;
      started = accepting = false;
      // Stop taking input first (the webhook is left in place for other processes), then let
      // in-flight handlers finish.
      if (!webhook) await poller.stop();
      await Promise.allSettled([...inFlight, ...webhookTasks]);
      onInbound = undefined;
      logger.info({ mode: webhook ? "webhook" : "polling" }, "telegram channel stopped");
    },

    async handleWebhook(body: unknown, secretHeader: string | undefined): Promise<{ status: number }> {
      if (!webhook) return { status: 404 };
      if (!webhookSecretMatches(secretHeader, webhook.secret)) {
        logger.warn(
          { hasSecret: secretHeader !== undefined },
          "telegram webhook refused: wrong or missing secret token",
        );
        return { status: 401 };
      }
      if (!isUpdate(body)) return { status: 400 };
      if (!accepting) return { status: 503 };
      lastUpdateAt = new Date();
      // Not awaited: Telegram gets its answer now. grammY runs the middleware synchronously up
      // to sequentialize, so updates of one chat still queue in the order they arrived.
      const task = bot.handleUpdate(body).catch((err: unknown) => {
        const cause = err instanceof BotError ? err.error : err;
        logger.error(
          { error: scrubToken(String(cause), token), eventId: `tg:${body.update_id}` },
          "telegram webhook update failed",
        );
      });
      webhookTasks.add(task);
      void task.finally(() => webhookTasks.delete(task));
      return { status: 200 };
    },

    async syncCommands(commands: readonly BotCommandSpec[]): Promise<boolean> {
      assertValidCommands(commands);
      const current = await call("getMyCommands", (signal) => bot.api.getMyCommands({}, signal));
      if (sameCommands(current, commands)) return false;
      await call("setMyCommands", (signal) => bot.api.setMyCommands(commands, {}, signal));
      logger.info({ commands: commands.map((c) => c.command) }, "telegram command menu updated");
      return true;
    },

    async send(chatId: string, message: OutboundMessage): Promise<MessageRef> {
      const replyTo = message.replyToMessageId === undefined ? undefined : toMessageId(message.replyToMessageId);
      const keyboard = toKeyboard(message.buttons);
      // Over 4,096 characters: several messages; the buttons go on the last, which is the ref
      // (the part operators reply or react to).
      const parts = splitTelegramText(message.text);
      let last: MessageRef | null = null;
      for (const [index, text] of parts.entries()) {
        const isLast = index === parts.length - 1;
        const sent = await call("sendMessage", (signal) =>
          bot.api.sendMessage(
            toChatId(chatId),
            text,
            {
              parse_mode: "HTML",
              link_preview_options: { is_disabled: true },
              // The reader's quiet hours: it arrives without a sound.
              ...(message.silent ? { disable_notification: true } : {}),
              ...(isLast && keyboard.inline_keyboard.length > 0 ? { reply_markup: keyboard } : {}),
              // The quoted message may be gone; the answer still matters more than the quote.
              ...(replyTo === undefined || index > 0
                ? {}
                : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
            },
            signal,
          ),
        );
        logger.debug(
          { chatId, messageId: sent.message_id, part: index + 1, parts: parts.length },
          "telegram message sent",
        );
        last = { channel: "telegram", chatId, messageId: String(sent.message_id) };
      }
      return last!;
    },

    async edit(ref: MessageRef, message: OutboundMessage): Promise<void> {
      const messageId = toMessageId(ref.messageId);
      try {
        await bot.api.editMessageText(
          toChatId(ref.chatId),
          messageId,
          // A message can only be edited into one message: keep the first part of a long text.
          splitTelegramText(message.text)[0]!,
          // An empty keyboard removes the buttons (e.g. once a card is decided).
          {
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            reply_markup: toKeyboard(message.buttons),
          },
          timeoutSignal(),
        );
      } catch (err) {
        // Editing to the same content (a retried edit, two deciders racing) is already done.
        if (err instanceof GrammyError && err.description.includes("message is not modified")) return;
        throw toChannelError(err, "editMessageText", token);
      }
    },

    async react(ref: MessageRef, emoji: string): Promise<void> {
      const reaction = emoji === "" ? undefined : toBotReaction(emoji);
      if (emoji !== "" && !reaction) {
        throw new ChannelError(`telegram cannot react with ${emoji}: bots may only use Telegram's reaction list`, true);
      }
      await call("setMessageReaction", (signal) =>
        bot.api.setMessageReaction(
          toChatId(ref.chatId),
          toMessageId(ref.messageId),
          reaction ? [{ type: "emoji", emoji: reaction }] : [], // [] removes the bot's reaction
          {},
          signal,
        ),
      );
    },

    health(): ChannelHealth {
      const last = lastUpdateAt?.toISOString() ?? null;
      if (webhook) return { ok: started, detail: { mode: "webhook", running: started, lastUpdateAt: last } };
      const { ok, ...status } = poller.status();
      return { ok, detail: { mode: "polling", ...status, lastUpdateAt: last } };
    },
  };
}

/** One row of inline buttons; Telegram rejects callback data outside 1–64 bytes. */
function toKeyboard(buttons: CardButton[] | undefined): InlineKeyboardMarkup {
  const row = (buttons ?? []).map((button) => {
    const bytes = Buffer.byteLength(button.data, "utf8");
    if (bytes < 1 || bytes > CALLBACK_DATA_MAX_BYTES) {
      throw new ChannelError(`button "${button.label}" has ${bytes} bytes of data; Telegram allows 1-64`, true);
    }
    return { text: button.label, callback_data: button.data };
  });
  return { inline_keyboard: row.length > 0 ? [row] : [] };
}

/** Numeric ids go as numbers; "@channelname" stays a string. */
function toChatId(chatId: string): number | string {
  return /^-?\d+$/.test(chatId) ? Number(chatId) : chatId;
}

function toMessageId(messageId: string): number {
  const id = Number(messageId);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ChannelError(`not a Telegram message id: ${messageId}`, true);
  return id;
}
