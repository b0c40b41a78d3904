/**
 * A test signoff whose only channel is Telegram, talking to the fake Bot API on loopback, and
 * the waits its tests share: a card with buttons, a message that replies to another.
 */
import { createTelegramChannel } from "../../src/bot/telegram/telegram-channel.js";
import type { FakeBotApi, FakeMessage } from "../fakes/fake-bot-api.js";
import { type TestInstanceOptions, eventually, startTestSignoff } from "./harness.js";

const QUIET = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return this;
  },
};

/** Start (or, with the same schema and prefix, restart) a signoff on the fake Bot API. */
export function startTelegramSignoff(fake: FakeBotApi, options: TestInstanceOptions = {}) {
  const channel = createTelegramChannel({
    token: fake.token,
    apiRoot: fake.apiRoot,
    logger: QUIET,
    pollingTimeoutSeconds: 1,
  });
  return startTestSignoff({ ...options, channels: [channel], webchat: false });
}

/** The card of `code` in a chat: a bot message naming it, with buttons. */
export function cardIn(fake: FakeBotApi, chat: number, code: string, timeoutMs = 15_000): Promise<FakeMessage> {
  return eventually(
    () => fake.sent(chat).find((m) => m.text.includes(code) && (m.replyMarkup?.inline_keyboard.flat().length ?? 0) > 0),
    `card ${code} in chat ${chat}`,
    timeoutMs,
  );
}

/** The bot's reminders of `code` in a chat. */
export function remindersIn(fake: FakeBotApi, chat: number, code: string): FakeMessage[] {
  return fake.sent(chat).filter((m) => m.text.startsWith("⏰") && m.text.includes(code));
}
