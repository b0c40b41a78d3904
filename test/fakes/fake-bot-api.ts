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
import type { Update } from "grammy/types";
import type { FailureResponse, FakeBotApiOptions, FakeCall, FakeMessage, PushedUpdate } from "./fake-bot-api-types.js";
import { FloodLimits } from "./fake-flood-limits.js";
import {
  ApiFailure,
  bad,
  checkMarkup,
  checkText,
  commandsKey,
  NOT_MODIFIED,
  now,
  readParams,
  parseQuery,
  type Json,
  type Params,
} from "./fake-bot-api-wire.js";

export * from "./fake-bot-api-types.js";

// Telegram's default when allowed_updates is empty: everything except these.
const OPT_IN_UPDATES = new Set(["chat_member", "message_reaction", "message_reaction_count"]);
// Bot reactions Telegram accepts (ReactionTypeEmoji in the Bot API docs).
const BOT_REACTIONS = new Set(
  "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡".split(
    " ",
  ),
);

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
  /**
   * Every request as it arrives, before it is answered (`calls` records answers, so a long
   * poll shows up there only when it returns).
   */
  readonly received: Array<{ method: string; client?: string; at: number }> = [];
  /** The last `allowed_updates` a getUpdates or setWebhook call sent. */
  allowedUpdates: string[] | undefined;
  webhook: { url: string; secretToken?: string; allowedUpdates?: string[] } | undefined;
  readonly commands = new Map<string, unknown>();
  readonly callbackQueries = new Map<string, { chatId: number; messageId: number; answers: Params[] }>();
  apiRoot = "";

  private readonly server: Server;
  private readonly limits: FloodLimits | undefined;
  private readonly queue: Update[] = [];
  private readonly chats = new Map<number, Map<number, FakeMessage>>();
  private readonly nextMessageId = new Map<number, number>();
  private readonly failures: Array<{ method: string; left: number; response: FailureResponse }> = [];
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
    this.limits = options.limits === false ? undefined : new FloodLimits(options.limits);
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

  /** Calls of one method, optionally only those of one client (see {@link apiRootFor}). */
  callsTo(method: string, client?: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method && (client === undefined || c.client === client));
  }

  /** Requests of one method that have arrived (answered or not), optionally of one client. */
  requestsTo(method: string, client?: string): Array<{ method: string; client?: string; at: number }> {
    return this.received.filter((r) => r.method === method && (client === undefined || r.client === client));
  }

  /**
   * An `apiRoot` that tags every call with `client`, so tests can tell apart several bots that
   * share this fake and its token (e.g. which of two processes is polling).
   *
   * @example new Bot(fake.token, { client: { apiRoot: fake.apiRootFor("a") } }) // calls carry client "a"
   */
  apiRootFor(client: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(client)) throw new Error(`fake-bot-api: bad client label ${client}`);
    return `${this.apiRoot}/${client}`;
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
    const query = {
      id,
      from: this.user(o.fromId ?? o.chatId),
      chat_instance: `ci${o.chatId}`,
      message: this.toMessage(m),
      data: o.data,
    };
    return { update_id: this.nextUpdateId++, callback_query: query } as unknown as Update;
  }

  /**
   * Delivers an update to a webhook as Telegram does (POST JSON, secret header). The header
   * carries the secret the bot set with setWebhook unless `secretToken` says otherwise; `null`
   * sends no header at all.
   */
  async postWebhook(
    url: string,
    update: Update,
    secretToken: string | null = this.webhook?.secretToken ?? null,
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (secretToken !== null) headers["X-Telegram-Bot-Api-Secret-Token"] = secretToken;
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
    const match = /^(?:\/([A-Za-z0-9_-]+))?\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const method = match?.[3] ?? url.pathname;
    const client = match?.[1];
    this.received.push({ method, at, ...(client === undefined ? {} : { client }) });
    const record = (status: number, response: unknown) =>
      this.calls.push({ method, params, at, status, response, ...(client === undefined ? {} : { client }) });
    const reply = (status: number, body: Json) => {
      record(status, body);
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (!match) return reply(404, { ok: false, error_code: 404, description: "Not Found" });
    if (match[2] !== this.token) return reply(401, { ok: false, error_code: 401, description: "Unauthorized" });
    if (unparsable) return reply(400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
    const failure = this.takeFailure(method);
    if (failure === "network") {
      record(0, undefined);
      req.socket.destroy();
      return;
    }
    if (failure) return reply(failure.error_code, { ok: false, ...failure });
    try {
      this.limits?.check(method, params);
      const result = await this.dispatch(method, params, res);
      this.limits?.count(method, params);
      reply(200, { ok: true, result });
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      const body: Json = { ok: false, error_code: err.code, description: err.message };
      if (err.parameters) body.parameters = err.parameters;
      reply(err.code, body);
    }
  }

  private takeFailure(method: string): FailureResponse | undefined {
    const f = this.failures.find(
      (x) => x.left > 0 && (x.method === method || (x.method === "*" && method !== "getUpdates")),
    );
    if (!f) return undefined;
    f.left--;
    return f.response;
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
        if (!q || q.answers.length > 0)
          throw bad("query is too old and response timeout expired or query ID is invalid");
        if (typeof p.text === "string" && p.text.length > 200) throw bad("MESSAGE_TOO_LONG");
        q.answers.push(p);
        return true;
      }
      case "setMyCommands": {
        const commands = (p.commands as Array<{ command: string; description: string }> | undefined) ?? [];
        if (commands.some((c) => !/^[a-z0-9_]{1,32}$/.test(c.command) || !c.description))
          throw bad("BOT_COMMAND_INVALID");
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
        this.webhook = {
          url: p.url,
          secretToken: p.secret_token as string | undefined,
          allowedUpdates: p.allowed_updates as string[] | undefined,
        };
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
    if (this.webhook)
      throw new ApiFailure(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
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
        if (terminated)
          throw new ApiFailure(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
          );
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
    const replyParams = p.reply_parameters as
      | { message_id?: number; allow_sending_without_reply?: boolean }
      | undefined;
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
