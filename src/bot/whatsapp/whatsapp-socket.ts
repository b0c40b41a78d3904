/**
 * The slice of a Baileys socket the adapter uses, so tests can drive the real adapter with a
 * fake socket (an event emitter shaped like `sock.ev` that records `sendMessage` calls), and the
 * small clock abstraction that makes reconnect timing testable.
 */
import {
  jidNormalizedUser,
  makeWASocket,
  type AnyMessageContent,
  type BaileysEventMap,
  type MiscMessageGenerationOptions,
  type UserFacingSocketConfig,
  type WAMessage,
} from "@whiskeysockets/baileys";

/** `sock.ev`: typed subscribe / unsubscribe. */
export interface SocketEvents {
  on<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void;
  off<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void;
}

/** What the adapter needs of a Baileys socket (`makeWASocket`'s result has all of it). */
export interface WhatsAppSocket {
  ev: SocketEvents;
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options?: MiscMessageGenerationOptions,
  ): Promise<WAMessage | undefined>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Closes the socket; Baileys then emits `connection.update` with `connection: "close"`. */
  end(error: Error | undefined): Promise<void> | void;
  /** Unlinks this device from the account, then closes (status 401). */
  logout(msg?: string): Promise<void>;
  /** LID ↔ phone-number mappings Baileys has learned (absent on fakes that do not model LIDs). */
  signalRepository?: { lidMapping: { getPNForLID(lid: string): Promise<string | null> } };
}

/** Builds a socket from a Baileys config; the default is Baileys' `makeWASocket`. */
export type MakeSocket = (config: UserFacingSocketConfig) => WhatsAppSocket;

/** Baileys' own socket factory. */
export const defaultMakeSocket: MakeSocket = (config) => makeWASocket(config);

/** Time and timers, injectable so tests run reconnects and the watchdog on a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock; its timers do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The HTTP-like status code of a Baileys error (`Boom`'s `output.statusCode`), if any. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { output?: { statusCode?: unknown } } | undefined)?.output?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** Phone-number JID of digits, or the normalised JID given (`123@s.whatsapp.net`, `…@g.us`). */
export function toJid(chatId: string): string {
  if (/^\d{5,20}$/.test(chatId)) return `${chatId}@s.whatsapp.net`;
  // Drops a device suffix ("123:4@s.whatsapp.net"): messages go to the user, not one device.
  return jidNormalizedUser(chatId) || chatId;
}
