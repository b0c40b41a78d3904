/**
 * The WhatsApp {@link Channel} over Baileys (a linked device of the bot's own number). Inbound:
 * only `messages.upsert` of type `notify`, one message at a time in arrival order, converted by
 * `whatsapp-inbound.ts`. Outbound: cards are plain text in WhatsApp markup (the card already has
 * its reply line, so buttons are not drawn); `edit` posts a follow-up quoting the card, because
 * WhatsApp bots should not rely on edits; `react` sets a reaction on the card. Every sent
 * message is kept in PostgreSQL so Baileys' `getMessage` can answer retry requests.
 * This directory is the only place that imports Baileys.
 *
 * Pacing is the outbox's job. WhatsApp publishes no limits for linked devices; to stay clear of
 * bans, keep to about 1 message per 3–5 s per chat and 10–20 per minute overall, with random
 * jitter, and never message people who did not write first.
 */
import { createHash } from "node:crypto";
import { proto, type UserFacingSocketConfig, type WAMessage, type WAMessageKey } from "@whiskeysockets/baileys";
import {
  ChannelError,
  type Channel,
  type ChannelHealth,
  type InboundHandler,
  type MessageRef,
  type OutboundMessage,
} from "../../domain/channel.js";
import type { WhatsAppAuthStore, WhatsAppMessageStore } from "../../store/whatsapp-auth-store.js";
import { loadWhatsAppAuthState } from "./whatsapp-auth-state.js";
import {
  type ConnectionStatus,
  type WhatsAppAlert,
  type WhatsAppConnection,
  type WhatsAppLease,
  createWhatsAppConnection,
} from "./whatsapp-connection.js";
import { toInboundEvent } from "./whatsapp-inbound.js";
import type { BaileysLogLevel, WhatsAppLogger } from "./whatsapp-logger.js";
import type { ConnectionPolicy } from "./whatsapp-policy.js";
import {
  type Clock,
  type MakeSocket,
  type WhatsAppSocket,
  defaultMakeSocket,
  statusCodeOf,
  systemClock,
  toJid,
} from "./whatsapp-socket.js";

export type { WhatsAppAlert, WhatsAppLease } from "./whatsapp-connection.js";
export type { WhatsAppLogger } from "./whatsapp-logger.js";

/** Options of {@link createWhatsAppChannel}. */
export interface WhatsAppChannelOptions {
  authStore: Pick<WhatsAppAuthStore, "loadCreds" | "saveCreds" | "getKeys" | "setKeys" | "clear">;
  messageStore: Pick<WhatsAppMessageStore, "save" | "get" | "hasFollowUp" | "prune">;
  logger: WhatsAppLogger;
  /** Digits of the bot's number: link it by pairing code instead of QR (`WHATSAPP_PAIRING_PHONE`). */
  pairingPhone?: string | undefined;
  /** Tell the owners on another channel (logged out, replaced, long outage and its end). */
  onAlert?: ((text: string, alert: WhatsAppAlert) => void | Promise<void>) | undefined;
  /** Hold the socket only while holding this lease (several processes). */
  lease?: WhatsAppLease | undefined;
  /** Socket factory. @defaultValue Baileys' `makeWASocket` */
  makeSocket?: MakeSocket | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  policy?: Partial<ConnectionPolicy> | undefined;
  /** Extra Baileys options, e.g. `version` or `browser`. */
  socketConfig?: Partial<UserFacingSocketConfig> | undefined;
  /** Baileys' own log level. @defaultValue "warn" */
  baileysLogLevel?: BaileysLogLevel | undefined;
  /** Keep sent messages this long for retries and quotes. @defaultValue 7 days */
  sentRetentionMs?: number;
  /** …and at most this many. @defaultValue 5000 */
  sentKeep?: number;
  /** Health stays ok this long into an outage, so a reconnect does not page anyone. @defaultValue 30000 */
  healthGraceMs?: number;
}

/** The WhatsApp channel: a {@link Channel} plus its connection status. */
export interface WhatsAppChannel extends Channel {
  readonly name: "whatsapp";
  status(): ConnectionStatus & { lastMessageAt: string | null };
}

const RECENT_INBOUND = 500; // inbound messages kept in memory to quote them in replies
const PRUNE_EVERY_SENDS = 200;

/**
 * Creates the WhatsApp channel. `start` loads the session from PostgreSQL and connects (or logs
 * a QR / pairing code when not linked yet) without waiting for the connection; sends before it
 * is open fail with a retryable {@link ChannelError}. Event ids are `wa:<message id>`.
 *
 * @example
 * const whatsapp = createWhatsAppChannel({
 *   authStore: createWhatsAppAuthStore(db), messageStore: createWhatsAppMessageStore(db), logger,
 *   lease: createRedisLease(redis, { key: whatsappLeaseKey(prefix, "default") }), onAlert,
 * });
 * await whatsapp.start(async (event) => chatHandler.handle(event));
 */
export function createWhatsAppChannel(options: WhatsAppChannelOptions): WhatsAppChannel {
  const logger = options.logger.child({ channel: "whatsapp" });
  const clock = options.clock ?? systemClock;
  const messages = options.messageStore;
  const retentionMs = options.sentRetentionMs ?? 7 * 86_400_000;
  const keep = options.sentKeep ?? 5_000;
  const graceMs = options.healthGraceMs ?? 30_000;

  let connection: WhatsAppConnection | null = null;
  let onInbound: InboundHandler | null = null;
  let lastMessageAt: Date | null = null;
  let sends = 0;
  let inboundTail: Promise<void> = Promise.resolve();
  const recentInbound = new Map<string, WAMessage>();

  const getMessage = async (key: WAMessageKey): Promise<proto.IMessage | undefined> => {
    if (!key.id) return undefined;
    const stored = await messages.get(key.id).catch(() => null);
    return stored ? proto.Message.decode(stored.message) : undefined;
  };

  function remember(msg: WAMessage): void {
    const id = msg.key.id;
    if (!id || !msg.message) return;
    recentInbound.delete(id);
    recentInbound.set(id, msg);
    if (recentInbound.size > RECENT_INBOUND) recentInbound.delete(recentInbound.keys().next().value!);
  }

  async function handle(sock: WhatsAppSocket, msg: WAMessage): Promise<void> {
    const receivedAt = new Date(clock.now());
    const result = await toInboundEvent(msg, {
      receivedAt,
      pnForLid: sock.signalRepository ? (lid) => sock.signalRepository!.lidMapping.getPNForLID(lid) : undefined,
    });
    if ("dropped" in result) {
      logger.debug({ messageId: msg.key.id, reason: result.dropped }, "whatsapp message ignored");
      return;
    }
    remember(msg);
    lastMessageAt = receivedAt;
    const event = result.event;
    try {
      await onInbound?.(event);
    } catch (err) {
      // One bad message must not stop the ones after it.
      logger.error({ err, eventId: event.eventId, chatId: event.chatId }, "whatsapp inbound handler failed");
    }
  }

  function attach(sock: WhatsAppSocket, isCurrent: () => boolean): void {
    sock.ev.on("messages.upsert", ({ messages: batch, type }) => {
      if (!isCurrent()) return;
      // "append" is history catch-up and our own sends from other devices: never answers.
      if (type !== "notify") return void logger.debug({ type, count: batch.length }, "whatsapp upsert ignored");
      for (const msg of batch) {
        inboundTail = inboundTail
          .then(() => handle(sock, msg))
          .catch((err: unknown) => logger.error({ err }, "whatsapp inbound failed"));
      }
    });
  }

  function openSocket(op: string): WhatsAppSocket {
    const sock = connection?.openSocket();
    if (!sock) throw new ChannelError(`whatsapp ${op}: not connected`, false, 5_000);
    return sock;
  }

  /** A message to quote: a recent inbound one, or one we sent (from the store). */
  async function quotable(jid: string, messageId: string): Promise<WAMessage | undefined> {
    const inbound = recentInbound.get(messageId);
    if (inbound) return inbound;
    const sent = await messages.get(messageId).catch(() => null);
    if (!sent) return undefined;
    return {
      key: { remoteJid: sent.chatId || jid, fromMe: true, id: messageId },
      message: proto.Message.decode(sent.message),
    };
  }

  async function sendAndKeep(
    op: string,
    jid: string,
    content: Parameters<WhatsAppSocket["sendMessage"]>[1],
    quoted: WAMessage | undefined,
    followUpKey?: string,
  ): Promise<string> {
    const sock = openSocket(op);
    let sent: WAMessage | undefined;
    try {
      sent = await sock.sendMessage(jid, content, quoted ? { quoted } : undefined);
    } catch (err) {
      throw toChannelError(err, op);
    }
    const id = sent?.key?.id;
    if (!id) throw new ChannelError(`whatsapp ${op}: no message id came back`, false);
    if (sent?.message) {
      // The message is out: failing to keep it must not fail the send (a retry would repeat it).
      const bytes = Buffer.from(proto.Message.encode(sent.message).finish());
      await messages
        .save({ messageId: id, chatId: jid, message: bytes, followUpKey })
        .catch((err: unknown) =>
          logger.warn({ error: (err as Error).message, messageId: id }, "whatsapp sent message not kept"),
        );
    }
    if (++sends % PRUNE_EVERY_SENDS === 0) void prune();
    return id;
  }

  async function prune(): Promise<void> {
    await messages
      .prune({ olderThan: new Date(clock.now() - retentionMs), keep })
      .catch((err: unknown) => logger.warn({ error: (err as Error).message }, "whatsapp sent messages not pruned"));
  }

  return {
    name: "whatsapp",

    async start(handler) {
      if (connection) throw new Error("whatsapp channel already started");
      onInbound = handler;
      const auth = await loadWhatsAppAuthState({ store: options.authStore, logger });
      connection = createWhatsAppConnection({
        auth,
        logger,
        makeSocket: options.makeSocket ?? defaultMakeSocket,
        lease: options.lease,
        pairingPhone: options.pairingPhone,
        policy: options.policy,
        clock,
        random: options.random,
        socketConfig: { markOnlineOnConnect: false, syncFullHistory: false, ...options.socketConfig },
        getMessage,
        baileysLogLevel: options.baileysLogLevel,
        hooks: {
          attach,
          alert: options.onAlert,
          onQr: (qr) =>
            logger.warn(
              { qr },
              "whatsapp is not linked: scan this QR (WhatsApp → Linked devices), or run `signoff whatsapp login`",
            ),
          onPairingCode: (code) =>
            logger.warn(
              { pairingCode: code },
              "whatsapp is not linked: enter this code (WhatsApp → Linked devices → Link with phone number)",
            ),
        },
      });
      if (!auth.linked)
        logger.warn({ pairing: Boolean(options.pairingPhone) }, "whatsapp is not linked yet; waiting for a login");
      void prune();
      await connection.start();
    },

    async stop() {
      const current = connection;
      if (!current) return;
      await current.stop();
      await inboundTail; // in-flight handlers finish
      connection = null;
      onInbound = null;
      logger.info({}, "whatsapp channel stopped");
    },

    async send(chatId: string, message: OutboundMessage): Promise<MessageRef> {
      const jid = toJid(chatId);
      const quoted = message.replyToMessageId ? await quotable(jid, message.replyToMessageId) : undefined;
      const id = await sendAndKeep("send", jid, { text: message.text }, quoted);
      return { channel: "whatsapp", chatId: jid, messageId: id };
    },

    async edit(ref: MessageRef, message: OutboundMessage): Promise<void> {
      const jid = toJid(ref.chatId);
      // A retried edit (the outbox retries the whole job) must not post the same follow-up twice.
      const followUpKey = createHash("sha256")
        .update(`${jid}\u0000${ref.messageId}\u0000${message.text}`)
        .digest("hex");
      if (await messages.hasFollowUp(followUpKey).catch(() => false)) return;
      const quoted = await quotable(jid, ref.messageId);
      await sendAndKeep("edit", jid, { text: message.text }, quoted, followUpKey);
    },

    async react(ref: MessageRef, emoji: string): Promise<void> {
      const jid = toJid(ref.chatId);
      // An empty text removes our reaction; setting the same one again changes nothing.
      await sendAndKeep(
        "react",
        jid,
        { react: { text: emoji, key: { remoteJid: jid, fromMe: true, id: ref.messageId } } },
        undefined,
      );
    },

    health(): ChannelHealth {
      const s = connection?.status();
      const loggedOut = s?.state === "logged-out";
      const inGrace =
        s !== undefined && s.linked && s.disconnectedSince !== null && clock.now() - s.disconnectedSince < graceMs;
      const ok =
        s !== undefined &&
        (s.state === "open" ||
          s.state === "standby" ||
          ((s.state === "waiting" || s.state === "connecting") && inGrace));
      return {
        ok,
        detail: {
          connected: s?.connected ?? false,
          lastMessageAt: lastMessageAt?.toISOString() ?? null,
          loggedOut,
          leaseHeld: s?.leaseHeld ?? false,
          state: s?.state ?? "stopped",
          linked: s?.linked ?? false,
          reconnectAttempts: s?.reconnectAttempts ?? 0,
          lastDisconnect: s?.lastDisconnect ?? null,
        },
      };
    },

    status() {
      const s: ConnectionStatus = connection?.status() ?? {
        state: "stopped",
        connected: false,
        linked: false,
        leaseHeld: false,
        reconnectAttempts: 0,
        lastDisconnect: null,
        lastEventAt: null,
        disconnectedSince: null,
      };
      return { ...s, lastMessageAt: lastMessageAt?.toISOString() ?? null };
    },
  };
}

/** A failed send as a {@link ChannelError}: bad requests are permanent, the rest retryable. */
function toChannelError(err: unknown, op: string): ChannelError {
  const code = statusCodeOf(err);
  const text = `whatsapp ${op} failed${code ? ` (${code})` : ""}: ${(err as Error)?.message ?? String(err)}`;
  if (code === 429) return new ChannelError(text, false, 30_000); // rate-overlimit: back off hard
  if (code === 400 || code === 404 || code === 406) return new ChannelError(text, true);
  return new ChannelError(text, false);
}
