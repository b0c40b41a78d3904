/**
 * The Telegram {@link Channel}: grammY for the Bot API, `@grammyjs/runner` for long polling.
 * This directory is the only place in signoff that imports grammY.
 */
import { run, sequentialize, type RunnerHandle } from "@grammyjs/runner";
import { Bot, GrammyError, type Context } from "grammy";
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
import { scrubHttpErrors, scrubToken, toChannelError } from "./telegram-errors.js";
import { ALLOWED_UPDATES, toInboundEvent } from "./telegram-inbound.js";
import { toBotReaction } from "./telegram-reactions.js";

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** The slice of a pino logger the adapter uses. */
export interface TelegramLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): TelegramLogger;
}

/** Options of {@link createTelegramChannel}. */
export interface TelegramChannelOptions {
  /** Bot token from BotFather; never logged, and scrubbed from every error text. */
  token: string;
  /** Bot API root without a trailing slash (a local Bot API server, or a test fake). @defaultValue "https://api.telegram.org" */
  apiRoot?: string;
  logger: TelegramLogger;
  /** How long one getUpdates call waits for updates. @defaultValue 30 */
  pollingTimeoutSeconds?: number;
  /** Give up on one send/edit/react/answer call after this long (then retryable). @defaultValue 15000 */
  requestTimeoutMs?: number;
}

/** grammY types signals with the abort-controller polyfill; native ones fit at runtime (it only listens for "abort"). */
type ApiSignal = Parameters<Bot["api"]["sendMessage"]>[3];

const TOAST_MAX = 200; // answerCallbackQuery text limit
const CALLBACK_DATA_MAX_BYTES = 64;

/**
 * Creates the Telegram channel. Sends work before {@link Channel.start}; `start` begins long
 * polling and delivers text, reactions and button presses to the handler, one chat in order.
 *
 * @example
 * const telegram = createTelegramChannel({ token: config.telegramBotToken, logger });
 * await telegram.start(async (event) => handleInbound(event));
 * const ref = await telegram.send("123456789", { text: "<b>K7QF</b> deploy?", buttons: [{ label: "✅", data: "a:K7QF" }] });
 */
export function createTelegramChannel(options: TelegramChannelOptions): Channel {
  const { token } = options;
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
        logger.warn({ errorCode: response.error_code, description: response.description }, "telegram getUpdates refused");
      }
      return response;
    } catch (err) {
      if (!signal?.aborted) logger.warn({ error: scrubToken(String(err), token) }, "telegram getUpdates failed");
      throw err;
    }
  });

  let onInbound: InboundHandler | undefined;
  let runner: RunnerHandle | undefined;
  let lastUpdateAt: Date | undefined;
  let fatalError: string | undefined;
  const inFlight = new Set<Promise<void>>();

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

  return {
    name: "telegram",

    async start(handler: InboundHandler): Promise<void> {
      if (runner) throw new Error("telegram channel already started");
      try {
        await bot.init(); // getMe: a wrong token fails the start instead of the first poll
      } catch (err) {
        throw toChannelError(err, "getMe", token);
      }
      // getUpdates answers 409 while a webhook is set; polling mode means no webhook.
      await call("deleteWebhook", (signal) => bot.api.deleteWebhook({}, signal));
      onInbound = handler;
      fatalError = undefined;
      const handle = run(bot, {
        runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES], timeout: pollingTimeout }, silent: true },
      });
      runner = handle;
      // The runner gives up on 401 (token revoked) and 409 (another poller); health shows it.
      handle.task()?.catch((err: unknown) => {
        fatalError = scrubToken(String(err), token);
        logger.error({ error: fatalError }, "telegram polling crashed");
      });
      logger.info({ bot: bot.botInfo.username, pollingTimeout }, "telegram polling started");
    },

    async stop(): Promise<void> {
      const handle = runner;
      runner = undefined;
      if (!handle) return;
      await handle.stop()?.catch(() => undefined); // a crash was already logged
      // Stop taking input first, then let in-flight handlers finish.
      await Promise.allSettled([...inFlight]);
      onInbound = undefined;
      logger.info({}, "telegram polling stopped");
    },

    async send(chatId: string, message: OutboundMessage): Promise<MessageRef> {
      const replyTo = message.replyToMessageId === undefined ? undefined : toMessageId(message.replyToMessageId);
      const keyboard = toKeyboard(message.buttons);
      const sent = await call("sendMessage", (signal) =>
        bot.api.sendMessage(
          toChatId(chatId),
          message.text,
          {
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            ...(keyboard.inline_keyboard.length > 0 ? { reply_markup: keyboard } : {}),
            // The quoted message may be gone; the answer still matters more than the quote.
            ...(replyTo === undefined ? {} : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
          },
          signal,
        ),
      );
      logger.debug({ chatId, messageId: sent.message_id }, "telegram message sent");
      return { channel: "telegram", chatId, messageId: String(sent.message_id) };
    },

    async edit(ref: MessageRef, message: OutboundMessage): Promise<void> {
      const messageId = toMessageId(ref.messageId);
      try {
        await bot.api.editMessageText(
          toChatId(ref.chatId),
          messageId,
          message.text,
          // An empty keyboard removes the buttons (e.g. once a card is decided).
          { parse_mode: "HTML", link_preview_options: { is_disabled: true }, reply_markup: toKeyboard(message.buttons) },
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
      const running = runner?.isRunning() ?? false;
      return {
        ok: running,
        detail: {
          mode: "polling",
          running,
          lastUpdateAt: lastUpdateAt?.toISOString() ?? null,
          ...(fatalError ? { error: fatalError } : {}),
        },
      };
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
