/**
 * A fake Telegram Bot API server on 127.0.0.1 that a real grammY `Bot` talks to through
 * `client.apiRoot`, so adapter tests exercise grammY's real HTTP client, error types and
 * long polling instead of mocks. It answers the way Telegram does (envelopes, error texts,
 * 401/404/409/429 codes, offset confirmation) and records everything for assertions.
 *
 * @example
 * const fake = await startFakeBotApi();
 * const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
 * fake.userSendsText({ chatId: 42, text: "status" });
 * await fake.waitFor(() => fake.sent(42)[0]);
 * await fake.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { InlineKeyboardMarkup, Update } from "grammy/types";

type Params = Record<string, unknown>;
type Json = Record<string, unknown>;

/** One API call as the fake saw it; `status` 0 means the connection was dropped on purpose. */
export interface FakeCall {
  method: string;
  params: Params;
  at: number;
  status: number;
  response: unknown;
}

/** A message in a fake chat, with its latest text and keyboard after edits. */
export interface FakeMessage {
  chatId: number;
  messageId: number;
  from: "bot" | "user";
  fromId: number;
  text: string;
  parseMode?: string;
  replyMarkup?: InlineKeyboardMarkup;
  replyToMessageId?: number;
  /** Emoji the bot set on this message with setMessageReaction (empty when none). */
  botReactions: string[];
  /** Emoji each user set, by user id (from userReacts). */
  userReactions: Record<number, string[]>;
  edits: number;
  date: number;
}

/** A Telegram error envelope to answer with, or "network" to drop the connection. */
export type FailureResponse =
  | "network"
  | { error_code: number; description: string; parameters?: { retry_after?: number; migrate_to_chat_id?: number } };

/** Flood limits, as documented by Telegram for bots. */
export interface RateLimits {
  /** @defaultValue 30 */
  globalPerSecond: number;
  /** @defaultValue 1 */
  perChatPerSecond: number;
  /** Applies to group chats (negative ids). @defaultValue 20 */
  perGroupPerMinute: number;
  /** Methods that count as a sent message. @defaultValue sendMessage, editMessageText, editMessageReplyMarkup */
  methods: string[];
}

export interface FakeBotApiOptions {
  /** @defaultValue a fixed, token-shaped test value */
  token?: string;
  /** @defaultValue "signoff_test_bot" */
  botUsername?: string;
  /** Partial overrides, or `false` to switch limits off. */
  limits?: Partial<RateLimits> | false;
}

/** What a user-side helper queued. */
export interface PushedUpdate {
  update: Update;
  updateId: number;
  messageId?: number;
  callbackQueryId?: string;
}

/** A 429 envelope as Telegram sends it. */
export const tooManyRequests = (retryAfter: number): FailureResponse => ({
  error_code: 429,
  description: `Too Many Requests: retry after ${retryAfter}`,
  parameters: { retry_after: retryAfter },
});
/** The 403 Telegram answers when the user blocked the bot. */
export const botBlocked: FailureResponse = { error_code: 403, description: "Forbidden: bot was blocked by the user" };

const DEFAULT_LIMITS: RateLimits = {
  globalPerSecond: 30,
  perChatPerSecond: 1,
  perGroupPerMinute: 20,
  methods: ["sendMessage", "editMessageText", "editMessageReplyMarkup"],
};
// Telegram's default when allowed_updates is empty: everything except these.
const OPT_IN_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);
// Bot reactions Telegram accepts (ReactionTypeEmoji in the Bot API docs).
const BOT_REACTIONS = new Set(
  "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡".split(" "),
);
const HTML_TAGS = new Set(["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote"]);
// Form fields that must stay strings even when they look like numbers or JSON.
const STRING_FIELDS = new Set(["text", "caption", "data", "callback_query_id", "url", "secret_token", "emoji", "description"]);
const NOT_MODIFIED =
  "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";

class ApiFailure extends Error {
  constructor(readonly code: number, description: string, readonly parameters?: Json) {
    super(description);
  }
}
const bad = (description: string) => new ApiFailure(400, `Bad Request: ${description}`);

/** Starts a fake Bot API server on a random loopback port. */
export async function startFakeBotApi(options: FakeBotApiOptions = {}): Promise<FakeBotApi> {
  const fake = new FakeBotApi(options);
  await fake.listen();
  return fake;
}

/** The fake server; create it with {@link startFakeBotApi}. */
export class FakeBotApi {
  readonly token: string;
  readonly botUser: Json;
  readonly calls: FakeCall[] = [];
  /** The last `allowed_updates` a getUpdates or setWebhook call sent. */
  allowedUpdates: string[] | undefined;
  webhook: { url: string; secretToken?: string; allowedUpdates?: string[] } | undefined;
  readonly commands = new Map<string, unknown>();
  readonly callbackQueries = new Map<string, { chatId: number; messageId: number; answers: Params[] }>();
  apiRoot = "";

  private readonly server: Server;
  private readonly limits: RateLimits | false;
  private readonly queue: Update[] = [];
  private readonly chats = new Map<number, Map<number, FakeMessage>>();
  private readonly nextMessageId = new Map<number, number>();
  private readonly failures: Array<{ method: string; left: number; response: FailureResponse }> = [];
  private readonly sentAt: number[] = [];
  private readonly sentAtByChat = new Map<number, number[]>();
  private readonly wakers = new Set<() => void>();
  private activePoll: (() => void) | undefined;
  private nextUpdateId = 700_000;
  private nextCallbackId = 1;
  private closed = false;

  constructor(options: FakeBotApiOptions) {
    this.token = options.token ?? "123456789:AAHfake-TEST_token_0123456789abcdefXYZ";
    this.botUser = {
      id: Number(this.token.split(":")[0]),
      is_bot: true,
      first_name: "Signoff Test",
      username: options.botUsername ?? "signoff_test_bot",
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    };
    this.limits = options.limits === false ? false : { ...DEFAULT_LIMITS, ...options.limits };
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** @internal used by {@link startFakeBotApi} */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.apiRoot = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Ends pending long polls (empty result), drops keep-alive sockets and closes the server. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakers) wake();
    await new Promise((r) => setTimeout(r, 5));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next `count` calls of `method` ("*" for any) fail with `response`. */
  failNext(method: string, count: number, response: FailureResponse): void {
    this.failures.push({ method, left: count, response });
  }

  /** Calls of one method. */
  callsTo(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages the bot sent to a chat, in order, as they look now. */
  sent(chatId: number | string): FakeMessage[] {
    return this.messages(chatId).filter((m) => m.from === "bot");
  }

  /** Every message in a chat (the users' too), in order. */
  messages(chatId: number | string): FakeMessage[] {
    return [...(this.chats.get(Number(chatId))?.values() ?? [])];
  }

  /** Resolves with the predicate's first truthy value; rejects after `timeoutMs`. */
  async waitFor<T>(predicate: () => T, timeoutMs = 3000, what = "condition"): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value as NonNullable<T>;
      if (Date.now() > deadline) throw new Error(`fake-bot-api: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Queues an update for getUpdates, assigning an increasing update_id when it has none. */
  pushUpdate(update: Omit<Update, "update_id"> & { update_id?: number }): Update {
    const id = update.update_id ?? this.nextUpdateId;
    this.nextUpdateId = Math.max(this.nextUpdateId, id + 1);
    const full = { ...update, update_id: id } as Update;
    this.queue.push(full);
    for (const wake of this.wakers) wake();
    return full;
  }

  /** A user writes in a chat (private chat = the user's id by default). */
  userSendsText(o: { chatId: number; fromId?: number; text: string; replyToMessageId?: number }): PushedUpdate {
    const update = this.pushUpdate(this.buildText(o));
    return { update, updateId: update.update_id, messageId: update.message?.message_id };
  }

  /** A user sets (or with `emoji: ""` removes) a reaction on a message. */
  userReacts(o: { chatId: number; fromId?: number; messageId: number; emoji: string }): PushedUpdate {
    const update = this.pushUpdate(this.buildReaction(o));
    return { update, updateId: update.update_id, messageId: o.messageId };
  }

  /** A user presses an inline button; the callback query id is remembered for answerCallbackQuery. */
  userPressesButton(o: { chatId: number; fromId?: number; messageId: number; data: string }): PushedUpdate {
    const update = this.pushUpdate(this.buildButtonPress(o));
    return { update, updateId: update.update_id, messageId: o.messageId, callbackQueryId: update.callback_query?.id };
  }

  /** Builds (and stores in the chat) a user's text message update without queueing it. */
  buildText(o: { chatId: number; fromId?: number; text: string; replyToMessageId?: number }): Update {
    const fromId = o.fromId ?? o.chatId;
    const m = this.store(o.chatId, { from: "user", fromId, text: o.text, replyToMessageId: o.replyToMessageId });
    return { update_id: this.nextUpdateId++, message: this.toMessage(m) } as unknown as Update;
  }

  /** Builds a `message_reaction` update (old_reaction is what this user had before). */
  buildReaction(o: { chatId: number; fromId?: number; messageId: number; emoji: string }): Update {
    const fromId = o.fromId ?? o.chatId;
    const m = this.mustFind(o.chatId, o.messageId);
    const old = m.userReactions[fromId] ?? [];
    m.userReactions[fromId] = o.emoji ? [o.emoji] : [];
    const asTypes = (list: string[]) => list.map((emoji) => ({ type: "emoji", emoji }));
    const reaction = {
      chat: this.chat(o.chatId),
      message_id: o.messageId,
      user: this.user(fromId),
      date: now(),
      old_reaction: asTypes(old),
      new_reaction: asTypes(m.userReactions[fromId]),
    };
    return { update_id: this.nextUpdateId++, message_reaction: reaction } as unknown as Update;
  }

  /** Builds a `callback_query` update for a button on one of the chat's messages. */
  buildButtonPress(o: { chatId: number; fromId?: number; messageId: number; data: string }): Update {
    const m = this.mustFind(o.chatId, o.messageId);
    const id = `${this.botUser.id}${String(this.nextCallbackId++).padStart(6, "0")}`;
    this.callbackQueries.set(id, { chatId: o.chatId, messageId: o.messageId, answers: [] });
    const query = { id, from: this.user(o.fromId ?? o.chatId), chat_instance: `ci${o.chatId}`, message: this.toMessage(m), data: o.data };
    return { update_id: this.nextUpdateId++, callback_query: query } as unknown as Update;
  }

  /** Delivers an update to a webhook as Telegram does (POST JSON, secret header). */
  async postWebhook(url: string, update: Update, secretToken = this.webhook?.secretToken): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (secretToken !== undefined) headers["X-Telegram-Bot-Api-Secret-Token"] = secretToken;
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(update) });
    return { status: res.status, body: await res.text() };
  }

  // ---- HTTP plumbing ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://fake");
    let params: Params = parseQuery(url.searchParams);
    let unparsable = false;
    try {
      params = { ...params, ...(await readParams(req)) };
    } catch {
      unparsable = true;
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const method = match?.[2] ?? url.pathname;
    const reply = (status: number, body: Json) => {
      this.calls.push({ method, params, at, status, response: body });
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (!match) return reply(404, { ok: false, error_code: 404, description: "Not Found" });
    if (match[1] !== this.token) return reply(401, { ok: false, error_code: 401, description: "Unauthorized" });
    if (unparsable) return reply(400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
    const failure = this.takeFailure(method);
    if (failure === "network") {
      this.calls.push({ method, params, at, status: 0, response: undefined });
      req.socket.destroy();
      return;
    }
    if (failure) return reply(failure.error_code, { ok: false, ...failure });
    try {
      this.checkLimits(method, params);
      const result = await this.dispatch(method, params, res);
      this.countSent(method, params);
      reply(200, { ok: true, result });
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const body: Json = { ok: false, error_code: err.code, description: err.message };
      if (err.parameters) body.parameters = err.parameters;
      reply(err.code, body);
    }
  }

  private takeFailure(method: string): FailureResponse | undefined {
    const f = this.failures.find((x) => x.left > 0 && (x.method === method || (x.method === "*" && method !== "getUpdates")));
    if (!f) return undefined;
    f.left--;
    return f.response;
  }

  // ---- flood limits ----

  private checkLimits(method: string, p: Params): void {
    if (!this.limits || !this.limits.methods.includes(method)) return;
    const t = Date.now();
    const chatId = Number(p.chat_id);
    const wait = (stamps: number[], max: number, windowMs: number) => {
      const recent = stamps.filter((s) => s > t - windowMs);
      const oldest = recent[recent.length - max];
      return recent.length >= max && oldest !== undefined ? Math.max(1, Math.ceil((oldest + windowMs - t) / 1000)) : 0;
    };
    const chatStamps = this.sentAtByChat.get(chatId) ?? [];
    const retryAfter = Math.max(
      wait(this.sentAt, this.limits.globalPerSecond, 1000),
      wait(chatStamps, this.limits.perChatPerSecond, 1000),
      chatId < 0 ? wait(chatStamps, this.limits.perGroupPerMinute, 60_000) : 0,
    );
    if (retryAfter > 0) throw new ApiFailure(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
  }

  private countSent(method: string, p: Params): void {
    if (!this.limits || !this.limits.methods.includes(method)) return;
    const t = Date.now();
    this.sentAt.push(t);
    const chatId = Number(p.chat_id);
    this.sentAtByChat.set(chatId, [...(this.sentAtByChat.get(chatId) ?? []).filter((s) => s > t - 60_000), t]);
    while (this.sentAt.length > 0 && (this.sentAt[0] ?? 0) <= t - 1000) this.sentAt.shift();
  }

  // ---- methods ----

  private async dispatch(method: string, p: Params, res: ServerResponse): Promise<unknown> {
    switch (method) {
      case "getMe":
        return this.botUser;
      case "getUpdates":
        return this.getUpdates(p, res);
      case "sendMessage":
        return this.sendMessage(p);
      case "editMessageText":
      case "editMessageReplyMarkup":
        return this.editMessage(method, p);
      case "setMessageReaction": {
        const m = this.find(Number(p.chat_id), Number(p.message_id));
        if (!m) throw bad("message to react not found");
        const list = (p.reaction as Array<{ type: string; emoji?: string }> | undefined) ?? [];
        if (list.some((r) => r.type !== "emoji" || !BOT_REACTIONS.has(r.emoji ?? ""))) throw bad("REACTION_INVALID");
        m.botReactions = list.map((r) => r.emoji ?? "");
        return true;
      }
      case "answerCallbackQuery": {
        const q = this.callbackQueries.get(String(p.callback_query_id));
        if (!q || q.answers.length > 0) throw bad("query is too old and response timeout expired or query ID is invalid");
        if (typeof p.text === "string" && p.text.length > 200) throw bad("MESSAGE_TOO_LONG");
        q.answers.push(p);
        return true;
      }
      case "setMyCommands": {
        const commands = (p.commands as Array<{ command: string; description: string }> | undefined) ?? [];
        if (commands.some((c) => !/^[a-z0-9_]{1,32}$/.test(c.command) || !c.description)) throw bad("BOT_COMMAND_INVALID");
        this.commands.set(commandsKey(p), commands);
        return true;
      }
      case "getMyCommands":
        return this.commands.get(commandsKey(p)) ?? [];
      case "deleteMyCommands":
        this.commands.delete(commandsKey(p));
        return true;
      case "setWebhook":
        if (typeof p.url !== "string") throw bad("bad webhook: URL must be provided");
        if (p.url === "") return this.deleteWebhook(p);
        this.webhook = { url: p.url, secretToken: p.secret_token as string | undefined, allowedUpdates: p.allowed_updates as string[] | undefined };
        if (p.allowed_updates) this.allowedUpdates = p.allowed_updates as string[];
        if (p.drop_pending_updates) this.queue.length = 0;
        return true;
      case "deleteWebhook":
        return this.deleteWebhook(p);
      case "getWebhookInfo":
        return {
          url: this.webhook?.url ?? "",
          has_custom_certificate: false,
          pending_update_count: this.queue.length,
          ...(this.webhook?.allowedUpdates ? { allowed_updates: this.webhook.allowedUpdates } : {}),
        };
      default:
        throw new ApiFailure(404, "Not Found: method not found");
    }
  }

  private deleteWebhook(p: Params): true {
    this.webhook = undefined;
    if (p.drop_pending_updates) this.queue.length = 0;
    return true;
  }

  private async getUpdates(p: Params, res: ServerResponse): Promise<Update[]> {
    if (this.webhook) throw new ApiFailure(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    if (Array.isArray(p.allowed_updates)) this.allowedUpdates = p.allowed_updates as string[];
    const offset = Number(p.offset ?? 0);
    if (offset > 0) this.dropWhile((u) => u.update_id < offset);
    else if (offset < 0) this.queue.splice(0, Math.max(0, this.queue.length + offset));
    const limit = Math.min(100, Math.max(1, Number(p.limit ?? 100)));
    const deadline = Date.now() + Number(p.timeout ?? 0) * 1000;
    // A second poller terminates the first, as Telegram does.
    this.activePoll?.();
    let terminated = false;
    const terminate = () => {
      terminated = true;
      for (const wake of this.wakers) wake();
    };
    this.activePoll = terminate;
    try {
      for (;;) {
        const ready = this.deliverable(limit);
        if (terminated) throw new ApiFailure(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
        if (ready.length > 0 || this.closed || res.destroyed || Date.now() >= deadline) return ready;
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            res.off("close", wake);
            resolve();
          };
          const timer = setTimeout(wake, deadline - Date.now());
          this.wakers.add(wake);
          res.once("close", wake);
        });
      }
    } finally {
      if (this.activePoll === terminate) this.activePoll = undefined;
    }
  }

  private dropWhile(pred: (u: Update) => boolean): void {
    while (this.queue.length > 0 && pred(this.queue[0] as Update)) this.queue.shift();
  }

  /** Updates a poll may return now; types the bot did not ask for are discarded, as Telegram never creates them. */
  private deliverable(limit: number): Update[] {
    const allowed = this.allowedUpdates?.length ? new Set(this.allowedUpdates) : undefined;
    const wanted = (u: Update) => {
      const type = Object.keys(u).find((k) => k !== "update_id") ?? "";
      return allowed ? allowed.has(type) : !OPT_IN_UPDATES.has(type);
    };
    for (let i = this.queue.length - 1; i >= 0; i--) if (!wanted(this.queue[i] as Update)) this.queue.splice(i, 1);
    return this.queue.slice(0, limit);
  }

  private sendMessage(p: Params): Json {
    const chatId = Number(p.chat_id);
    if (!Number.isInteger(chatId) || chatId === 0) throw bad("chat not found");
    const text = checkText(p);
    const markup = checkMarkup(p.reply_markup);
    const replyParams = p.reply_parameters as { message_id?: number; allow_sending_without_reply?: boolean } | undefined;
    const replyTo = Number(replyParams?.message_id ?? p.reply_to_message_id ?? 0) || undefined;
    if (replyTo !== undefined && !this.find(chatId, replyTo) && !replyParams?.allow_sending_without_reply) {
      throw bad("message to be replied not found");
    }
    const m = this.store(chatId, { from: "bot", fromId: Number(this.botUser.id), text, replyToMessageId: replyTo });
    m.parseMode = p.parse_mode as string | undefined;
    m.replyMarkup = markup;
    return this.toMessage(m);
  }

  private editMessage(method: string, p: Params): Json {
    const m = this.find(Number(p.chat_id), Number(p.message_id));
    if (!m) throw bad("message to edit not found");
    if (m.from !== "bot") throw bad("message can't be edited");
    // Telegram drops the inline keyboard when an edit carries no reply_markup.
    const markup = checkMarkup(p.reply_markup);
    const text = method === "editMessageText" ? checkText(p) : m.text;
    const parseMode = method === "editMessageText" ? (p.parse_mode as string | undefined) : m.parseMode;
    if (text === m.text && JSON.stringify(markup) === JSON.stringify(m.replyMarkup)) throw bad(NOT_MODIFIED);
    Object.assign(m, { text, parseMode, replyMarkup: markup, edits: m.edits + 1 });
    return this.toMessage(m);
  }

  // ---- chat state ----

  private store(chatId: number, o: Pick<FakeMessage, "from" | "fromId" | "text" | "replyToMessageId">): FakeMessage {
    const messageId = this.nextMessageId.get(chatId) ?? 1;
    this.nextMessageId.set(chatId, messageId + 1);
    const m: FakeMessage = { chatId, messageId, ...o, botReactions: [], userReactions: {}, edits: 0, date: now() };
    if (!this.chats.has(chatId)) this.chats.set(chatId, new Map());
    this.chats.get(chatId)?.set(messageId, m);
    return m;
  }

  private find(chatId: number, messageId: number): FakeMessage | undefined {
    return this.chats.get(chatId)?.get(messageId);
  }

  private mustFind(chatId: number, messageId: number): FakeMessage {
    const m = this.find(chatId, messageId);
    if (!m) throw new Error(`fake-bot-api: no message ${messageId} in chat ${chatId}`);
    return m;
  }

  private toMessage(m: FakeMessage, nested = false): Json {
    const msg: Json = {
      message_id: m.messageId,
      from: m.from === "bot" ? this.botUser : this.user(m.fromId),
      chat: this.chat(m.chatId),
      date: m.date,
      text: m.text,
    };
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(m.text);
    if (command) msg.entities = [{ type: "bot_command", offset: 0, length: command[0].length }];
    if (m.edits > 0) msg.edit_date = now();
    if (m.replyMarkup && m.replyMarkup.inline_keyboard.length > 0) msg.reply_markup = m.replyMarkup;
    const replied = m.replyToMessageId === undefined ? undefined : this.find(m.chatId, m.replyToMessageId);
    if (replied && !nested) msg.reply_to_message = this.toMessage(replied, true);
    return msg;
  }

  private chat(id: number): Json {
    if (id > 0) return { id, type: "private", first_name: `User${id}` };
    return { id, type: String(id).startsWith("-100") ? "supergroup" : "group", title: `Group ${id}` };
  }

  private user(id: number): Json {
    return { id, is_bot: false, first_name: `User${id}`, language_code: "en" };
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function commandsKey(p: Params): string {
  return `${JSON.stringify(p.scope ?? { type: "default" })}|${String(p.language_code ?? "")}`;
}

function checkText(p: Params): string {
  const text = typeof p.text === "string" ? p.text : "";
  if (text.trim() === "") throw bad("message text is empty");
  const visible = p.parse_mode === "HTML" ? checkHtml(text) : text;
  if (visible.length > 4096) throw bad("message is too long");
  return text;
}

function checkMarkup(markup: unknown): InlineKeyboardMarkup | undefined {
  if (markup === undefined) return undefined;
  const rows = (markup as { inline_keyboard?: Array<Array<{ text?: string; callback_data?: string }>> }).inline_keyboard;
  if (!Array.isArray(rows)) return markup as InlineKeyboardMarkup;
  for (const button of rows.flat()) {
    if (!button.text) throw bad("text buttons are unallowed in the inline keyboard");
    const bytes = Buffer.byteLength(button.callback_data ?? "");
    if (button.callback_data !== undefined && (bytes < 1 || bytes > 64)) throw bad("BUTTON_DATA_INVALID");
  }
  return rows.length > 0 ? (markup as InlineKeyboardMarkup) : undefined;
}

/** Checks Telegram's HTML subset the way the server does; returns the visible text. */
function checkHtml(text: string): string {
  const open: string[] = [];
  // A bare "&" is left alone: Telegram's parser tolerates it in practice.
  const tag = /<(\/?)([a-zA-Z0-9-]*)[^<>]*>|</g;
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    const at = Buffer.byteLength(text.slice(0, m.index));
    if (m[0] === "<") throw bad(`can't parse entities: Unsupported start tag "" at byte offset ${at}`);
    const name = (m[2] ?? "").toLowerCase();
    if (!HTML_TAGS.has(name)) throw bad(`can't parse entities: Unsupported start tag "${name}" at byte offset ${at}`);
    if (m[1] === "") open.push(name);
    else if (open.pop() !== name) throw bad(`can't parse entities: Unexpected end tag at byte offset ${at}`);
  }
  if (open.length > 0) throw bad(`can't parse entities: Can't find end tag corresponding to start tag "${open[open.length - 1]}"`);
  return text.replace(/<[^>]*>/g, "").replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, "_");
}

async function readParams(req: IncomingMessage): Promise<Params> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  const type = req.headers["content-type"] ?? "";
  if (body === "") return {};
  if (type.includes("application/json")) return JSON.parse(body) as Params;
  if (type.includes("application/x-www-form-urlencoded")) return parseQuery(new URLSearchParams(body));
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (type.includes("multipart/form-data") && boundary) return parseMultipart(body, boundary[1] ?? boundary[2] ?? "");
  return {};
}

function parseQuery(search: URLSearchParams): Params {
  const out: Params = {};
  for (const [k, v] of search) out[k] = formValue(k, v);
  return out;
}

function parseMultipart(body: string, boundary: string): Params {
  const out: Params = {};
  for (const part of body.split(`--${boundary}`)) {
    const [head, ...rest] = part.split("\r\n\r\n");
    const name = /name="([^"]+)"/.exec(head ?? "")?.[1];
    if (!name) continue;
    const value = rest.join("\r\n\r\n").replace(/\r\n$/, "");
    const filename = /filename="([^"]*)"/.exec(head ?? "")?.[1];
    out[name] = filename !== undefined ? { filename, size: Buffer.byteLength(value) } : formValue(name, value);
  }
  return out;
}

/** Form fields arrive as strings; Telegram reads numbers and JSON-serialized objects from them. */
function formValue(key: string, value: string): unknown {
  if (STRING_FIELDS.has(key)) return value;
  if (/^-?\d+$/.test(value) || /^[[{]/.test(value) || value === "true" || value === "false") {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
