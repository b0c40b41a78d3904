/**
 * A fake Baileys socket for driving the real WhatsApp adapter: `ev` is an event emitter shaped
 * like `sock.ev`, `sendMessage` records every call and answers like Baileys (a message with a new
 * id), and helpers emit what WhatsApp would (open, close with a status code, QR, messages).
 * Also a fake clock for reconnect timing, and in-memory session stores for unit tests.
 *
 * @example
 * const wa = createFakeBaileys();
 * const channel = createWhatsAppChannel({ ..., makeSocket: wa.makeSocket });
 * await channel.start(handler);
 * wa.latest().open();
 * wa.latest().deliver([textMessage("64211234567", "approve K7QF")]);
 */
import { EventEmitter } from "node:events";
import {
  initAuthCreds,
  type AnyMessageContent,
  type AuthenticationCreds,
  type BaileysEventMap,
  type MiscMessageGenerationOptions,
  type UserFacingSocketConfig,
  type WAMessage,
} from "@whiskeysockets/baileys";
import type { Clock, MakeSocket, WhatsAppSocket } from "../../src/bot/whatsapp/whatsapp-socket.js";
import type {
  KeyWrite,
  SentMessage,
  StoredCreds,
  WhatsAppAuthStore,
  WhatsAppMessageStore,
} from "../../src/store/whatsapp-auth-store.js";

/** One recorded `sendMessage` call and what it answered. */
export interface SentRecord {
  jid: string;
  content: AnyMessageContent;
  options: MiscMessageGenerationOptions | undefined;
  result: WAMessage;
}

/** A fake socket: the adapter's view plus controls for the test. */
export interface FakeSocket extends WhatsAppSocket {
  readonly config: UserFacingSocketConfig;
  readonly sent: SentRecord[];
  readonly pairingRequests: string[];
  ended: boolean;
  loggedOut: boolean;
  /** LID → phone JID answers for `signalRepository.lidMapping.getPNForLID`. */
  lidToPn: Map<string, string>;
  /** Make the next `sendMessage` throw this. */
  failNextSend(error: Error): void;
  emit<T extends keyof BaileysEventMap>(event: T, arg: BaileysEventMap[T]): void;
  open(): void;
  /** Close as WhatsApp would, with this status code (undefined: no reason). */
  close(statusCode?: number): void;
  qr(value: string): void;
  deliver(messages: WAMessage[], type?: "notify" | "append"): void;
  listenerCount(event: keyof BaileysEventMap): number;
}

/** A Boom-shaped error, as Baileys puts in `lastDisconnect.error`. */
export function boom(statusCode: number, message = `status ${statusCode}`): Error {
  return Object.assign(new Error(message), { isBoom: true, output: { statusCode, payload: { statusCode, message } } });
}

let nextId = 0x1000;
/** A message id shaped like WhatsApp's. */
export const newMessageId = () => `3EB0${(nextId++).toString(16).toUpperCase().padStart(12, "0")}`;

function createFakeSocket(config: UserFacingSocketConfig): FakeSocket {
  const emitter = new EventEmitter();
  let failure: Error | null = null;
  const sock: FakeSocket = {
    config,
    sent: [],
    pairingRequests: [],
    ended: false,
    loggedOut: false,
    lidToPn: new Map(),
    ev: {
      on: (event, listener) => void emitter.on(event, listener as (arg: unknown) => void),
      off: (event, listener) => void emitter.off(event, listener as (arg: unknown) => void),
    },
    signalRepository: { lidMapping: { getPNForLID: async (lid) => sock.lidToPn.get(lid) ?? null } },
    async sendMessage(jid, content, options) {
      if (failure) {
        const error = failure;
        failure = null;
        throw error;
      }
      const c = content as { text?: string; react?: unknown };
      const quoted = options?.quoted;
      const message: WAMessage["message"] =
        c.react !== undefined
          ? { reactionMessage: c.react as never }
          : {
              extendedTextMessage: {
                text: c.text ?? "",
                ...(quoted
                  ? { contextInfo: { stanzaId: quoted.key.id ?? null, quotedMessage: quoted.message ?? null } }
                  : {}),
              },
            };
      const result: WAMessage = {
        key: { remoteJid: jid, fromMe: true, id: newMessageId() },
        message,
        messageTimestamp: Math.floor(Date.now() / 1000),
      };
      sock.sent.push({ jid, content, options, result });
      return result;
    },
    async requestPairingCode(phone) {
      sock.pairingRequests.push(phone);
      return "ABCD1234";
    },
    async end(error) {
      if (sock.ended) return;
      sock.ended = true;
      // Like Baileys: one close update, then connection.update listeners are gone.
      emitter.emit("connection.update", { connection: "close", lastDisconnect: { error, date: new Date() } });
      emitter.removeAllListeners("connection.update");
    },
    async logout() {
      sock.loggedOut = true;
      await sock.end(boom(401, "Intentional Logout"));
    },
    failNextSend(error) {
      failure = error;
    },
    emit: (event, arg) => void emitter.emit(event, arg),
    open: () => void emitter.emit("connection.update", { connection: "open" }),
    close: (statusCode) => void sock.end(statusCode === undefined ? undefined : boom(statusCode)),
    qr: (value) => void emitter.emit("connection.update", { qr: value }),
    deliver: (messages, type = "notify") => void emitter.emit("messages.upsert", { messages, type }),
    listenerCount: (event) => emitter.listenerCount(event),
  };
  return sock;
}

/** A socket factory that keeps every socket it made. */
export function createFakeBaileys() {
  const sockets: FakeSocket[] = [];
  const makeSocket: MakeSocket = (config) => {
    const sock = createFakeSocket(config);
    sockets.push(sock);
    return sock;
  };
  return {
    makeSocket,
    sockets,
    latest(): FakeSocket {
      const sock = sockets.at(-1);
      if (!sock) throw new Error("no socket was made");
      return sock;
    },
  };
}

/** Options of the message builders. */
export interface MessageOptions {
  id?: string;
  /** Address the chat by this LID (`123@lid`), with the phone number as `remoteJidAlt` unless `hidePn`. */
  lid?: string;
  hidePn?: boolean;
  fromMe?: boolean;
  remoteJid?: string;
  pushName?: string;
}

function keyOf(phone: string, o: MessageOptions): WAMessage["key"] {
  const pn = `${phone}@s.whatsapp.net`;
  if (o.remoteJid) return { remoteJid: o.remoteJid, fromMe: o.fromMe ?? false, id: o.id ?? newMessageId() };
  if (o.lid)
    return {
      remoteJid: o.lid,
      ...(o.hidePn ? {} : { remoteJidAlt: pn }),
      addressingMode: "lid",
      fromMe: o.fromMe ?? false,
      id: o.id ?? newMessageId(),
    };
  return { remoteJid: pn, fromMe: o.fromMe ?? false, id: o.id ?? newMessageId() };
}

/** A text message from `phone` (digits), optionally quoting `quotedId`. */
export function textMessage(phone: string, text: string, o: MessageOptions & { quotedId?: string } = {}): WAMessage {
  const message = o.quotedId
    ? {
        extendedTextMessage: {
          text,
          contextInfo: {
            stanzaId: o.quotedId,
            participant: "bot@s.whatsapp.net",
            quotedMessage: { conversation: "card" },
          },
        },
      }
    : { conversation: text };
  return {
    key: keyOf(phone, o),
    message,
    messageTimestamp: Math.floor(Date.now() / 1000),
    pushName: o.pushName ?? phone,
  };
}

/** A reaction from `phone` on message `targetId` (ours); an empty emoji removes it. */
export function reactionMessage(phone: string, targetId: string, emoji: string, o: MessageOptions = {}): WAMessage {
  const key = keyOf(phone, o);
  return {
    key,
    message: {
      reactionMessage: {
        key: { remoteJid: key.remoteJid ?? null, fromMe: true, id: targetId },
        text: emoji,
        senderTimestampMs: Date.now(),
      },
    },
    messageTimestamp: Math.floor(Date.now() / 1000),
  };
}

/** A clock whose time moves only when the test says so. */
export interface FakeClock extends Clock {
  /** Move time forward, firing due timers in order, and let their async work settle. */
  advance(ms: number): Promise<void>;
  /** Delays of the timers still pending, from now. */
  pending(): number[];
}

/** Let queued promise callbacks and I/O-free async work run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Creates a {@link FakeClock} starting at `start` (ms). */
export function createFakeClock(start = Date.UTC(2025, 0, 1, 8, 0, 0)): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        await settle();
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= until)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = until;
      await settle();
    },
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
  };
}

/** Creds of a linked device (as after a successful pairing) of the bot's number `phone`. */
export function linkedCreds(phone = "64200000001"): AuthenticationCreds {
  return {
    ...initAuthCreds(),
    me: { id: `${phone}:7@s.whatsapp.net`, name: "signoff" },
    account: {
      details: Buffer.from("details"),
      accountSignatureKey: Buffer.alloc(32, 1),
      accountSignature: Buffer.alloc(64, 2),
      deviceSignature: Buffer.alloc(64, 3),
    },
  };
}

/** In-memory session stores with the PostgreSQL stores' behaviour, for unit tests. */
export function createMemoryWhatsAppStores(account = "default") {
  let creds: { current: string | null; previous: string | null } = { current: null, previous: null };
  const keys = new Map<string, string>();
  const sent = new Map<string, SentMessage>();
  const authStore: WhatsAppAuthStore & { writes: number } = {
    account,
    writes: 0,
    async loadCreds(): Promise<StoredCreds> {
      return { ...creds, currentDamaged: false, updatedAt: creds.current ? new Date() : null };
    },
    async saveCreds(json) {
      authStore.writes++;
      if (json !== creds.current) creds = { current: json, previous: creds.current ?? creds.previous };
    },
    async getKeys(type, ids) {
      const out = new Map<string, string>();
      for (const id of ids) {
        const v = keys.get(`${type}|${id}`);
        if (v !== undefined) out.set(id, v);
      }
      return out;
    },
    async setKeys(writes: readonly KeyWrite[]) {
      for (const w of writes) {
        if (w.value === null) keys.delete(`${w.type}|${w.id}`);
        else keys.set(`${w.type}|${w.id}`, w.value);
      }
    },
    async clearKeys() {
      keys.clear();
    },
    async clear() {
      keys.clear();
      creds = { current: null, previous: null };
    },
  };
  const messageStore: WhatsAppMessageStore = {
    account,
    async save(m) {
      if (!sent.has(m.messageId)) sent.set(m.messageId, m);
    },
    get: async (id) => sent.get(id) ?? null,
    hasFollowUp: async (key) => [...sent.values()].some((m) => m.followUpKey === key),
    prune: async () => 0,
  };
  return { authStore, messageStore, keys, sent, creds: () => creds };
}
