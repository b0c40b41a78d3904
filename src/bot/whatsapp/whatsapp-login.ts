/**
 * Interactive linking and unlinking for the command line (`signoff whatsapp login|logout`):
 * the same connection code as the service, printing the QR (or a pairing code) for a person,
 * and ending once WhatsApp confirms. Run them while signoff is stopped: two clients on one
 * session replace each other.
 */
import type { UserFacingSocketConfig } from "@whiskeysockets/baileys";
import type { WhatsAppAuthStore } from "../../store/whatsapp-auth-store.js";
import { loadWhatsAppAuthState } from "./whatsapp-auth-state.js";
import { createWhatsAppConnection, type WhatsAppConnection } from "./whatsapp-connection.js";
import type { BaileysLogLevel, WhatsAppLogger } from "./whatsapp-logger.js";
import { type Clock, type MakeSocket, defaultMakeSocket, systemClock } from "./whatsapp-socket.js";

/** Options shared by {@link loginWhatsApp} and {@link logoutWhatsApp}. */
export interface WhatsAppCliOptions {
  store: Pick<WhatsAppAuthStore, "loadCreds" | "saveCreds" | "getKeys" | "setKeys" | "clear" | "clearKeys">;
  logger: WhatsAppLogger;
  /** Where lines for the person at the terminal go. */
  out: (line: string) => void;
  /** Link by pairing code for this number (digits) instead of QR. */
  pairingPhone?: string | undefined;
  /** Draw the QR for a terminal (e.g. with `qrcode-terminal`); by default the raw QR text is printed. */
  renderQr?: ((qr: string) => string) | undefined;
  makeSocket?: MakeSocket | undefined;
  clock?: Clock | undefined;
  /** Give up after this long. @defaultValue 300000 (login), 30000 (logout) */
  timeoutMs?: number | undefined;
  socketConfig?: Partial<UserFacingSocketConfig> | undefined;
  baileysLogLevel?: BaileysLogLevel | undefined;
}

/** How a login ended. */
export type WhatsAppLoginResult =
  | { status: "linked" | "already-linked"; me: string }
  | { status: "timed-out" | "rejected" };

/** How a logout ended: unlinked at WhatsApp, only cleared here (WhatsApp unreachable), or nothing to do. */
export type WhatsAppLogoutResult = { status: "logged-out" | "cleared-locally" | "not-linked" };

/**
 * Links signoff to a WhatsApp account: prints QR codes (or one pairing code per socket when
 * `pairingPhone` is set) until the phone confirms, then saves the session and returns.
 *
 * @example
 * const result = await loginWhatsApp({ store, logger, out: (l) => process.stdout.write(l + "\n") });
 */
export async function loginWhatsApp(options: WhatsAppCliOptions): Promise<WhatsAppLoginResult> {
  const auth = await loadWhatsAppAuthState({ store: options.store, logger: options.logger });
  if (auth.linked) return { status: "already-linked", me: auth.state.creds.me?.id ?? "" };
  await options.store.clearKeys(); // keys of an older device would only confuse the new one
  const clock = options.clock ?? systemClock;
  const { out } = options;
  out(
    options.pairingPhone
      ? `Linking WhatsApp number ${options.pairingPhone} by pairing code…`
      : "Linking WhatsApp by QR: on the phone, open WhatsApp → Settings → Linked devices → Link a device.",
  );

  return new Promise<WhatsAppLoginResult>((resolve) => {
    let finished = false;
    const finish = async (result: WhatsAppLoginResult) => {
      if (finished) return;
      finished = true;
      clock.clearTimeout(timer);
      await connection.stop();
      await auth.flush();
      resolve(result);
    };
    const connection: WhatsAppConnection = createWhatsAppConnection({
      auth,
      logger: options.logger,
      makeSocket: options.makeSocket ?? defaultMakeSocket,
      pairingPhone: options.pairingPhone,
      clock,
      policy: { watchdogMs: 0, outageAlertMs: 0 },
      socketConfig: { markOnlineOnConnect: false, syncFullHistory: false, ...options.socketConfig },
      baileysLogLevel: options.baileysLogLevel,
      hooks: {
        onQr: (qr) => {
          out(
            options.renderQr
              ? options.renderQr(qr)
              : `QR (render it with e.g. \`qrencode -t ansiutf8 '<text>'\`):\n${qr}`,
          );
          out("(a new QR follows every 20 s until one is scanned)");
        },
        onPairingCode: (code) =>
          out(
            `Pairing code: ${code.slice(0, 4)}-${code.slice(4)}  (WhatsApp → Linked devices → Link a device → Link with phone number instead)`,
          ),
        onOpen: () => void finish({ status: "linked", me: auth.state.creds.me?.id ?? "" }),
        onLoginRejected: () => void finish({ status: "rejected" }),
      },
    });
    const timer = clock.setTimeout(() => void finish({ status: "timed-out" }), options.timeoutMs ?? 300_000);
    connection.start().catch(() => void finish({ status: "rejected" }));
  });
}

/**
 * Unlinks signoff from WhatsApp (the device disappears from the phone's list) and deletes the
 * session. When WhatsApp cannot be reached in time the session is still deleted here; remove
 * the device on the phone by hand then.
 *
 * @example
 * await logoutWhatsApp({ store, logger, out });
 */
export async function logoutWhatsApp(options: WhatsAppCliOptions): Promise<WhatsAppLogoutResult> {
  const auth = await loadWhatsAppAuthState({ store: options.store, logger: options.logger });
  if (!auth.linked) {
    await options.store.clear();
    return { status: "not-linked" };
  }
  const clock = options.clock ?? systemClock;
  return new Promise<WhatsAppLogoutResult>((resolve) => {
    let finished = false;
    const finish = async (status: WhatsAppLogoutResult["status"]) => {
      if (finished) return;
      finished = true;
      clock.clearTimeout(timer);
      await connection.stop();
      await options.store.clear();
      resolve({ status });
    };
    const unlink = async () => {
      try {
        await connection.logout();
        await finish("logged-out");
      } catch (err) {
        options.logger.warn({ error: (err as Error).message }, "whatsapp logout request failed");
        await finish("cleared-locally");
      }
    };
    const connection = createWhatsAppConnection({
      auth,
      logger: options.logger,
      makeSocket: options.makeSocket ?? defaultMakeSocket,
      clock,
      policy: { watchdogMs: 0, outageAlertMs: 0 },
      socketConfig: { markOnlineOnConnect: false, syncFullHistory: false, ...options.socketConfig },
      baileysLogLevel: options.baileysLogLevel,
      hooks: { onOpen: () => void unlink() },
    });
    const timer = clock.setTimeout(() => void finish("cleared-locally"), options.timeoutMs ?? 30_000);
    connection.start().catch(() => void finish("cleared-locally"));
  });
}
