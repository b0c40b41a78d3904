/**
 * The built-in web chat: a real {@link Channel} served as a small local page (`/chat`), so a
 * newcomer with no Telegram or WhatsApp credentials can see cards and answer them. Each
 * configured operator has a chat (chat id = operator name); the page streams messages over
 * server-sent events. It trusts whoever can reach it, so it is only served on loopback.
 *
 * Messages live in memory only. Every run of the process gets a random boot id that prefixes
 * its message ids, so a card reference stored before a restart can never name a message of this
 * run: edits of it do nothing, and {@link Channel.knows} tells the reconciler to post it again.
 * A chat keeps its last {@link HISTORY_LIMIT} messages, so after a restart it gets back only the
 * newest pending cards and one line for the rest ({@link Channel.memory}).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type {
  Channel,
  ChannelHealth,
  ChannelMemory,
  InboundEvent,
  InboundHandler,
  MessageRef,
  OutboundMessage,
} from "../../domain/channel.js";

/** One message in a web chat, as the page shows it. */
export interface WebchatMessage {
  id: string;
  from: "bot" | "operator";
  text: string;
  buttons: Array<{ label: string; data: string }>;
  reactions: string[];
  replyTo?: string;
  at: string;
}

/** Messages one chat keeps; a restart re-posts no more pending cards than fit. */
export const HISTORY_LIMIT = 300;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1"]);
/** How soon a page's event stream retries after the server went away (a restart). */
const RECONNECT_MS = 2_000;
const PAGE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "page.html"), "utf8");

const SendSchema = z
  .object({ text: z.string().trim().min(1).max(4000), replyTo: z.string().max(40).optional() })
  .strict();
const ReactSchema = z.object({ messageId: z.string().min(1).max(40), emoji: z.string().min(1).max(16) }).strict();
const ButtonSchema = z.object({ messageId: z.string().min(1).max(40), data: z.string().min(1).max(64) }).strict();

/** The web chat channel; `register` adds its routes to the HTTP server. */
export interface WebchatChannel extends Channel {
  /** This run's id: the prefix of every message id it hands out (differs after a restart). */
  readonly bootId: string;
  knows(ref: MessageRef): boolean;
  readonly memory: ChannelMemory;
  register(app: FastifyInstance): void;
  /** A chat's messages (tests and the page's first load). */
  history(chatId: string): WebchatMessage[];
  /** Act as an operator typing, reacting or pressing a button (the page's routes use these). */
  operatorSays(chatId: string, text: string, replyTo?: string): Promise<WebchatMessage>;
  operatorReacts(chatId: string, messageId: string, emoji: string): Promise<void>;
  operatorPresses(chatId: string, messageId: string, data: string): Promise<string>;
}

/** An open event stream of one page. */
interface Listener {
  send(event: string, data: unknown): void;
  end(): void;
}

/** Options of {@link createWebchatChannel}. */
export interface WebchatOptions {
  /** Names of the operators who have a chat here. */
  operators: () => string[];
  /**
   * This run's id (letters and digits, no `-`, at most 16).
   * @defaultValue 12 random hex digits
   */
  bootId?: string;
}

/** Create the web chat for these operator names. */
export function createWebchatChannel(options: WebchatOptions): WebchatChannel {
  const bootId = options.bootId ?? randomBytes(6).toString("hex");
  // Ids are `<boot>-<n>`: with no "-" inside a boot id, the prefix names exactly one run.
  if (!/^[A-Za-z0-9]{1,16}$/.test(bootId)) throw new Error("web chat boot id must be 1-16 letters or digits");
  const idPrefix = `${bootId}-`;
  const chats = new Map<string, WebchatMessage[]>();
  const listeners = new Map<string, Set<Listener>>();
  let onInbound: InboundHandler | null = null;
  let nextId = 1;
  let sequence = 1;
  let started = false;
  const newId = () => `${idPrefix}${nextId++}`;

  const historyOf = (chatId: string) => {
    let list = chats.get(chatId);
    if (!list) {
      list = [];
      chats.set(chatId, list);
    }
    return list;
  };
  const emit = (chatId: string, event: string, data: unknown) => {
    for (const listener of listeners.get(chatId) ?? []) listener.send(event, data);
  };
  const push = (chatId: string, message: WebchatMessage) => {
    const list = historyOf(chatId);
    list.push(message);
    if (list.length > HISTORY_LIMIT) list.splice(0, list.length - HISTORY_LIMIT);
    emit(chatId, "message", message);
  };
  const find = (chatId: string, messageId: string) => historyOf(chatId).find((m) => m.id === messageId);
  const known = (chatId: string) => options.operators().includes(chatId);
  const deliver = async (event: InboundEvent) => {
    if (!onInbound) throw new Error("web chat is not started");
    await onInbound(event);
  };
  const base = (chatId: string) => ({
    channel: "webchat" as const,
    chatId,
    sender: { id: chatId, displayName: chatId },
    eventId: `wc-${bootId}-${sequence++}`,
    receivedAt: new Date(),
  });

  // Open pages learn at once that the server is going, and show that they reconnect.
  const sayGoodbye = () => {
    for (const set of listeners.values()) {
      for (const l of set) {
        l.send("bye", {});
        l.end();
      }
    }
    listeners.clear();
  };

  const channel: WebchatChannel = {
    name: "webchat",
    bootId,
    knows: (ref) => ref.channel === "webchat" && ref.messageId.startsWith(idPrefix),
    // A new run starts with no chat caught up: each gets its lost cards back once.
    memory: { keeps: HISTORY_LIMIT, caughtUp: new Set() },
    async start(handler) {
      onInbound = handler;
      started = true;
    },
    async stop() {
      started = false; // open pages were told in the server's preClose (see register)
    },
    async send(chatId: string, message: OutboundMessage): Promise<MessageRef> {
      const sent: WebchatMessage = {
        id: newId(),
        from: "bot",
        text: message.text,
        buttons: message.buttons ?? [],
        reactions: [],
        ...(message.replyToMessageId ? { replyTo: message.replyToMessageId } : {}),
        at: new Date().toISOString(),
      };
      push(chatId, sent);
      return { channel: "webchat", chatId, messageId: sent.id };
    },
    async edit(ref, message) {
      const m = find(ref.chatId, ref.messageId);
      if (!m) return;
      m.text = message.text;
      m.buttons = message.buttons ?? [];
      emit(ref.chatId, "update", m);
    },
    async react(ref, emoji) {
      const m = find(ref.chatId, ref.messageId);
      if (!m) return;
      m.reactions = [emoji];
      emit(ref.chatId, "update", m);
    },
    health(): ChannelHealth {
      return {
        ok: started,
        detail: { chats: chats.size, listeners: [...listeners.values()].reduce((n, s) => n + s.size, 0) },
      };
    },
    history: (chatId) => [...historyOf(chatId)],
    async operatorSays(chatId, text, replyTo) {
      const message: WebchatMessage = {
        id: newId(),
        from: "operator",
        text,
        buttons: [],
        reactions: [],
        ...(replyTo ? { replyTo } : {}),
        at: new Date().toISOString(),
      };
      push(chatId, message);
      await deliver({
        ...base(chatId),
        kind: "text",
        messageId: message.id,
        text,
        ...(replyTo ? { replyToMessageId: replyTo } : {}),
      });
      return message;
    },
    async operatorReacts(chatId, messageId, emoji) {
      const m = find(chatId, messageId);
      if (m) {
        m.reactions = [...new Set([...m.reactions, emoji])];
        emit(chatId, "update", m);
      }
      await deliver({ ...base(chatId), kind: "reaction", messageId, emoji });
    },
    async operatorPresses(chatId, messageId, data) {
      let toast = "";
      await deliver({
        ...base(chatId),
        kind: "button",
        messageId,
        data,
        answer: async (t) => {
          toast = t;
        },
      });
      return toast;
    },
    register(app) {
      const chatOf = (params: unknown, reply: FastifyReply): string | null => {
        const chatId = (params as { chat: string }).chat;
        if (!known(chatId)) {
          void reply.status(404).send({ error: "not_found", message: "no such operator in the web chat" });
          return null;
        }
        return chatId;
      };
      const body = <T>(schema: z.ZodType<T>, value: unknown, reply: FastifyReply): T | null => {
        const parsed = schema.safeParse(value ?? {});
        if (parsed.success) return parsed.data;
        void reply.status(400).send({
          error: "invalid_body",
          problems: parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message })),
        });
        return null;
      };
      // The page trusts whoever reaches it, so only loopback Host names are served: a page on
      // another site cannot drive it through DNS rebinding.
      app.addHook("onRequest", async (req, reply) => {
        if (!req.url.startsWith("/chat")) return;
        const host = (req.headers.host ?? "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
        if (!LOOPBACK_HOSTS.has(host))
          await reply.status(403).send({ error: "forbidden", message: "the web chat only answers on localhost" });
      });
      // Before the server drops every connection on shutdown, not after.
      app.addHook("preClose", async () => sayGoodbye());
      app.get("/chat", async (_req, reply) => reply.type("text/html; charset=utf-8").send(PAGE));
      app.get("/chat/api/operators", async () => ({ operators: options.operators() }));
      app.get("/chat/api/:chat/messages", async (req, reply) => {
        const chatId = chatOf(req.params, reply);
        return chatId ? { messages: historyOf(chatId) } : reply;
      });
      app.get("/chat/api/:chat/events", (req, reply) => {
        const chatId = chatOf(req.params, reply);
        if (!chatId) return reply;
        reply.hijack();
        reply.raw.writeHead(200, {
          "Content-Type": "text/event-stream",
          "Cache-Control": "no-cache",
          Connection: "keep-alive",
        });
        // Also sends the headers now, so the page's `open` (and its history load) need not wait for an event.
        reply.raw.write(`retry: ${RECONNECT_MS}\n\n`);
        const ping = setInterval(() => reply.raw.write(": ping\n\n"), 15_000);
        const listener: Listener = {
          send: (event, data) => void reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
          end: () => {
            clearInterval(ping);
            reply.raw.end();
          },
        };
        let set = listeners.get(chatId);
        if (!set) {
          set = new Set();
          listeners.set(chatId, set);
        }
        set.add(listener);
        reply.raw.on("close", () => {
          clearInterval(ping);
          set!.delete(listener);
        });
        return reply;
      });
      app.post("/chat/api/:chat/send", async (req, reply) => {
        const chatId = chatOf(req.params, reply);
        const b = chatId && body(SendSchema, req.body, reply);
        if (!chatId || !b) return reply;
        return { message: await channel.operatorSays(chatId, b.text, b.replyTo) };
      });
      app.post("/chat/api/:chat/react", async (req, reply) => {
        const chatId = chatOf(req.params, reply);
        const b = chatId && body(ReactSchema, req.body, reply);
        if (!chatId || !b) return reply;
        await channel.operatorReacts(chatId, b.messageId, b.emoji);
        return { ok: true };
      });
      app.post("/chat/api/:chat/button", async (req, reply) => {
        const chatId = chatOf(req.params, reply);
        const b = chatId && body(ButtonSchema, req.body, reply);
        if (!chatId || !b) return reply;
        return { toast: await channel.operatorPresses(chatId, b.messageId, b.data) };
      });
    },
  };
  return channel;
}
