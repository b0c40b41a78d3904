/**
 * One Baileys socket over the PostgreSQL session, and what its events mean to the connection:
 * the socket options signoff always sets, the QR or the pairing code (asked for once the socket
 * is ready for a login), every creds update persisted, open and close passed on, and any sign
 * of life fed to the watchdog.
 */
import {
  isJidBroadcast,
  isJidNewsletter,
  makeCacheableSignalKeyStore,
  type UserFacingSocketConfig,
} from "@whiskeysockets/baileys";
import type { WhatsAppAuthState } from "./whatsapp-auth-state.js";
import type { BaileysLogger, WhatsAppLogger } from "./whatsapp-logger.js";
import { type SocketEvents, type WhatsAppSocket, statusCodeOf } from "./whatsapp-socket.js";

/** Socket events that prove the socket still delivers; any of them feeds the watchdog. */
export const ACTIVITY_EVENTS = [
  "creds.update",
  "messages.upsert",
  "messages.update",
  "messages.reaction",
  "message-receipt.update",
  "presence.update",
  "chats.upsert",
  "chats.update",
  "contacts.upsert",
  "contacts.update",
  "lid-mapping.update",
  "messaging-history.set",
  "call",
] as const satisfies ReadonlyArray<Parameters<SocketEvents["on"]>[0]>;

/** What {@link socketConfigFor} builds the Baileys options from. */
export interface SocketConfigInput {
  auth: WhatsAppAuthState;
  baileysLogger: BaileysLogger;
  /** Extra Baileys socket options (version, browser…); auth, logger and getMessage win over them. */
  socketConfig?: Partial<UserFacingSocketConfig> | undefined;
  getMessage?: UserFacingSocketConfig["getMessage"] | undefined;
}

/** The Baileys options of a new socket over the current session. */
export function socketConfigFor(input: SocketConfigInput): UserFacingSocketConfig {
  const { auth, baileysLogger } = input;
  return {
    // Status updates and newsletters are never answers: do not even decrypt them.
    shouldIgnoreJid: (jid: string) => isJidBroadcast(jid) || isJidNewsletter(jid),
    ...input.socketConfig,
    auth: { creds: auth.state.creds, keys: makeCacheableSignalKeyStore(auth.state.keys, baileysLogger) },
    logger: baileysLogger,
    ...(input.getMessage ? { getMessage: input.getMessage } : {}),
  };
}

/** How the connection takes a socket's events; see {@link wireSocket}. */
export interface SocketWiring {
  auth: WhatsAppAuthState;
  logger: WhatsAppLogger;
  /** Login callbacks, read at each event. */
  hooks: { onQr?(qr: string): void; onPairingCode?(code: string): void };
  /** Phone number (digits) to link by pairing code instead of QR. */
  pairingPhone?: string | undefined;
  /** False once this socket was replaced or closed: its events are then ignored. */
  isCurrent(): boolean;
  /** The socket showed a sign of life. */
  onActivity(): void;
  onOpen(socket: WhatsAppSocket): void;
  onClose(code: number | undefined, message: string | undefined): void;
}

/** Subscribes the connection to a new socket's events. */
export function wireSocket(sock: WhatsAppSocket, wiring: SocketWiring): void {
  const { auth, hooks, isCurrent, logger, pairingPhone } = wiring;
  let pairingRequested = false;
  sock.ev.on("connection.update", (update) => {
    if (!isCurrent()) return;
    wiring.onActivity();
    if (update.qr) {
      if (!pairingPhone) hooks.onQr?.(update.qr);
      else if (!pairingRequested) {
        // The first QR means the socket is ready for a login: ask for the code then, once.
        pairingRequested = true;
        sock.requestPairingCode(pairingPhone).then(
          (code) => isCurrent() && hooks.onPairingCode?.(code),
          (err: unknown) => logger.warn({ error: (err as Error).message }, "whatsapp pairing code request failed"),
        );
      }
    }
    if (update.connection === "open") wiring.onOpen(sock);
    else if (update.connection === "close")
      wiring.onClose(statusCodeOf(update.lastDisconnect?.error), update.lastDisconnect?.error?.message);
  });
  sock.ev.on("creds.update", (update) => {
    // Baileys merges the update into the creds it holds (the same object); merging again is harmless.
    Object.assign(auth.state.creds, update);
    auth
      .saveCreds()
      .catch((err: unknown) =>
        logger.error({ error: (err as Error).message }, "whatsapp creds not saved; will write them again"),
      );
  });
  for (const name of ACTIVITY_EVENTS) sock.ev.on(name, () => isCurrent() && wiring.onActivity());
}
