/**
 * Builds the WhatsApp channel from configuration: the session stores, a Redis lease so one
 * process at a time holds the socket, and the owners' alert hook. Kept here so the
 * composition root stays a few lines.
 */
import type { Redis } from "ioredis";
import { createRedisLease } from "../../jobs/redis/lease.js";
import type { WhatsAppAuthStore, WhatsAppMessageStore } from "../../store/whatsapp-auth-store.js";
import { createWhatsAppChannel, type WhatsAppAlert, type WhatsAppChannel } from "./whatsapp-channel.js";
import type { WhatsAppLogger } from "./whatsapp-logger.js";

/** What the composition root passes in. */
export interface WhatsAppSetupOptions {
  authStore: WhatsAppAuthStore;
  messageStore: WhatsAppMessageStore;
  /** A command connection; the socket lease lives under `prefix`. */
  redis: Redis;
  prefix: string;
  logger: WhatsAppLogger;
  /** `WHATSAPP_PAIRING_PHONE`: link by pairing code instead of QR. */
  pairingPhone?: string | undefined;
  onAlert?: ((text: string, alert: WhatsAppAlert) => void | Promise<void>) | undefined;
}

/**
 * The lease key of one WhatsApp account's socket.
 *
 * @example whatsappLeaseKey("signoff", "default") // "signoff:whatsapp:socket-lease:default"
 */
export function whatsappLeaseKey(prefix: string, account: string): string {
  return `${prefix}:whatsapp:socket-lease:${account}`;
}

/**
 * Build the WhatsApp channel behind a Redis lease (15 s TTL, renewed every 5 s: a dead holder is
 * replaced within about 20 s).
 *
 * @example
 * const whatsapp = setupWhatsApp({ authStore, messageStore, redis, prefix, logger, onAlert });
 */
export function setupWhatsApp(options: WhatsAppSetupOptions): WhatsAppChannel {
  return createWhatsAppChannel({
    authStore: options.authStore,
    messageStore: options.messageStore,
    logger: options.logger,
    pairingPhone: options.pairingPhone,
    onAlert: options.onAlert,
    lease: createRedisLease(options.redis, { key: whatsappLeaseKey(options.prefix, options.authStore.account) }),
  });
}
