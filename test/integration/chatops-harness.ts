/**
 * Chat-ops test helpers: a real signoff (PostgreSQL schema + Redis prefix of its own, web chat)
 * whose chat-ops clock the test controls, and "say this, wait for the bot's reply" in the web chat.
 */
import { createLogger } from "../../src/logger.js";
import { startSignoff, type Signoff } from "../../src/main.js";
import { eventually, testConfig, uniqueName } from "../helpers/harness.js";

/** A test clock: `set` moves it, `advance` moves it forward by ms. */
export function testClock(start: Date) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (date: Date) => {
      now = date.getTime();
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export type OpsSignoff = Signoff & { schema: string; prefix: string };

/** Start signoff with the standard test operators and source, plus `file` overrides. */
export async function startOpsSignoff(
  options: { schema?: string; prefix?: string; file?: Record<string, unknown>; now?: () => Date } = {},
): Promise<OpsSignoff> {
  const schema = options.schema ?? uniqueName("t");
  const prefix = options.prefix ?? uniqueName("q");
  const config = testConfig({ schema, prefix, ...(options.file ? { file: options.file } : {}) });
  const signoff = await startSignoff({
    config,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? "silent"),
    ...(options.now ? { now: options.now } : {}),
  });
  return Object.assign(signoff, { schema, prefix });
}

/** Say `text` in `chat`'s web chat and return the bot's reply to it. */
export async function ask(s: Signoff, chat: string, text: string): Promise<string> {
  const sent = await s.webchat!.operatorSays(chat, text);
  const reply = await eventually(
    () => s.webchat!.history(chat).find((m) => m.from === "bot" && m.replyTo === sent.id),
    `reply to ${JSON.stringify(text)} in ${chat}'s chat`,
  );
  return reply.text;
}

/** The bot's messages in `chat`, oldest first. */
export const botMessages = (s: Signoff, chat: string) => s.webchat!.history(chat).filter((m) => m.from === "bot");

/** Wait until nothing new arrives in `chat` for `quietMs`; returns the bot messages. */
export async function settle(s: Signoff, chat: string, quietMs = 300): Promise<string[]> {
  let count = -1;
  for (;;) {
    const now = botMessages(s, chat).length;
    if (now === count) return botMessages(s, chat).map((m) => m.text);
    count = now;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}
