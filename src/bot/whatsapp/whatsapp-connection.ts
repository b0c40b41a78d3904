/**
 * Holds one WhatsApp socket and keeps it alive: takes the lease (one process per account),
 * builds sockets over the PostgreSQL session, persists every creds update, logs the QR or asks
 * for a pairing code once the socket is ready for it, and applies the disconnect policy of
 * `whatsapp-policy.ts` (stop on 401/440, reconnect now on 515, otherwise back off 2 s → 60 s
 * forever). A watchdog replaces a socket that is open but deaf; a long outage alerts the owners.
 */
import {
  isJidBroadcast,
  isJidNewsletter,
  makeCacheableSignalKeyStore,
  type UserFacingSocketConfig,
} from "@whiskeysockets/baileys";
import type { Lease } from "../../jobs/redis/lease.js";
import { type LeasedWork, runWhileLeased } from "../../jobs/redis/run-while-leased.js";
import type { WhatsAppAuthState } from "./whatsapp-auth-state.js";
import { type BaileysLogLevel, type WhatsAppLogger, toBaileysLogger } from "./whatsapp-logger.js";
import {
  type ConnectionPolicy,
  type ConnectionState,
  type ConnectionStatus,
  type WhatsAppAlert,
  DEFAULT_CONNECTION_POLICY,
  classifyDisconnect,
  disconnectReasonName,
  reconnectDelayMs,
} from "./whatsapp-policy.js";
import {
  type Clock,
  type MakeSocket,
  type SocketEvents,
  type WhatsAppSocket,
  statusCodeOf,
  systemClock,
} from "./whatsapp-socket.js";

export type { ConnectionState, ConnectionStatus, WhatsAppAlert } from "./whatsapp-policy.js";
/** The socket's lease (`createRedisLease` in `src/jobs/redis/lease.ts`). */
export type WhatsAppLease = Lease;

/** Callbacks of {@link createWhatsAppConnection}. */
export interface ConnectionHooks {
  /** A new socket exists; `isCurrent()` turns false once it is replaced or closed. */
  attach?(socket: WhatsAppSocket, isCurrent: () => boolean): void;
  onQr?(qr: string): void;
  onPairingCode?(code: string): void;
  onOpen?(socket: WhatsAppSocket): void;
  /** WhatsApp refused a device that was never linked (e.g. a pairing that failed). */
  onLoginRejected?(): void;
  /** Tell the owners on another channel (a failure is logged, never thrown into the connection). */
  alert?(text: string, alert: WhatsAppAlert): void | Promise<void>;
}

/** Dependencies of {@link createWhatsAppConnection}. */
export interface ConnectionDeps {
  auth: WhatsAppAuthState;
  logger: WhatsAppLogger;
  makeSocket: MakeSocket;
  hooks?: ConnectionHooks;
  lease?: WhatsAppLease | undefined;
  /** Phone number (digits) to link by pairing code instead of QR. */
  pairingPhone?: string | undefined;
  policy?: Partial<ConnectionPolicy> | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /** Extra Baileys socket options (version, browser…); auth, logger and getMessage are set here. */
  socketConfig?: Partial<UserFacingSocketConfig> | undefined;
  getMessage?: UserFacingSocketConfig["getMessage"] | undefined;
  baileysLogLevel?: BaileysLogLevel | undefined;
}

/** The connection; see the module comment. */
export interface WhatsAppConnection {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The socket while it is open, else null. */
  openSocket(): WhatsAppSocket | null;
  /** Unlink this device at WhatsApp (socket must be open), then clear the session; no alert. */
  logout(): Promise<void>;
  status(): ConnectionStatus;
}

/** Socket events that prove the socket still delivers; any of them feeds the watchdog. */
const ACTIVITY_EVENTS = [
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

/**
 * Creates the connection. Nothing happens until {@link WhatsAppConnection.start}.
 *
 * @example
 * const connection = createWhatsAppConnection({ auth, logger, makeSocket: defaultMakeSocket, hooks: { alert } });
 * await connection.start();
 */
export function createWhatsAppConnection(deps: ConnectionDeps): WhatsAppConnection {
  const { auth, lease, logger } = deps;
  const hooks = deps.hooks ?? {};
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const policy: ConnectionPolicy = { ...DEFAULT_CONNECTION_POLICY, ...deps.policy };
  const baileysLogger = toBaileysLogger(logger.child({ component: "baileys" }), deps.baileysLogLevel ?? "warn");

  let active = false;
  let state: ConnectionState = "stopped";
  let generation = 0; // bumps whenever a socket is dropped: events of older sockets are ignored
  let socket: WhatsAppSocket | null = null;
  let open = false;
  let attempts = 0;
  let reloadNeeded = true; // first connect, and after (re)taking the lease: another process may have written
  let openedAt: number | null = null;
  let disconnectedSince: number | null = null;
  let lastEventAt: number | null = null;
  let lastDisconnect: ConnectionStatus["lastDisconnect"] = null;
  let outageAlerted = false;
  let loggingOut = false; // a 401 we asked for is not news for the owners
  const timers = {
    reconnect: undefined as unknown,
    watchdog: undefined as unknown,
    outage: undefined as unknown,
  };

  const clear = (name: keyof typeof timers) => {
    if (timers[name] !== undefined) clock.clearTimeout(timers[name]);
    timers[name] = undefined;
  };
  const later = (name: keyof typeof timers, ms: number, fn: () => void) => {
    clear(name);
    timers[name] = clock.setTimeout(() => {
      timers[name] = undefined;
      fn();
    }, ms);
  };
  const alert = (text: string, detail: WhatsAppAlert) => {
    void Promise.resolve()
      .then(() => hooks.alert?.(text, detail))
      .catch((err: unknown) => logger.error({ error: (err as Error).message }, "whatsapp alert could not be sent"));
  };
  const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

  /** Forget the current socket (its later events are ignored) and close it. */
  async function dropSocket(): Promise<void> {
    const old = socket;
    generation++;
    socket = null;
    open = false;
    openedAt = null;
    clear("watchdog");
    if (old) await Promise.resolve(old.end(undefined)).catch(() => undefined);
  }

  async function connect(): Promise<void> {
    clear("reconnect");
    if (!active || (lease && !lease.held)) return;
    const gen = ++generation;
    state = "connecting";
    try {
      if (reloadNeeded || !auth.linked) {
        await auth.flush();
        await auth.reload();
        reloadNeeded = false;
      }
    } catch (err) {
      logger.warn({ error: (err as Error).message }, "whatsapp session could not be loaded; retrying");
      if (gen === generation) scheduleReconnect(undefined);
      return;
    }
    if (gen !== generation || !active) return;
    let sock: WhatsAppSocket;
    try {
      sock = deps.makeSocket({
        // Status updates and newsletters are never answers: do not even decrypt them.
        shouldIgnoreJid: (jid: string) => isJidBroadcast(jid) || isJidNewsletter(jid),
        ...deps.socketConfig,
        auth: { creds: auth.state.creds, keys: makeCacheableSignalKeyStore(auth.state.keys, baileysLogger) },
        logger: baileysLogger,
        ...(deps.getMessage ? { getMessage: deps.getMessage } : {}),
      });
    } catch (err) {
      logger.error({ error: (err as Error).message }, "whatsapp socket could not be created");
      scheduleReconnect(undefined);
      return;
    }
    socket = sock;
    const isCurrent = () => gen === generation;
    let pairingRequested = false;
    sock.ev.on("connection.update", (update) => {
      if (!isCurrent()) return;
      touch();
      if (update.qr) {
        if (!deps.pairingPhone) hooks.onQr?.(update.qr);
        else if (!pairingRequested) {
          // The first QR means the socket is ready for a login: ask for the code then, once.
          pairingRequested = true;
          sock.requestPairingCode(deps.pairingPhone).then(
            (code) => isCurrent() && hooks.onPairingCode?.(code),
            (err: unknown) => logger.warn({ error: (err as Error).message }, "whatsapp pairing code request failed"),
          );
        }
      }
      if (update.connection === "open") onOpen(sock);
      else if (update.connection === "close")
        void onClose(statusCodeOf(update.lastDisconnect?.error), update.lastDisconnect?.error?.message);
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
    for (const name of ACTIVITY_EVENTS) sock.ev.on(name, () => isCurrent() && touch());
    hooks.attach?.(sock, isCurrent);
  }

  function touch(): void {
    lastEventAt = clock.now();
  }

  function onOpen(sock: WhatsAppSocket): void {
    open = true;
    state = "open";
    openedAt = clock.now();
    clear("outage");
    if (outageAlerted && disconnectedSince !== null) {
      const down = minutes(clock.now() - disconnectedSince);
      alert(`✅ WhatsApp is connected again after ${down} min.`, { kind: "recovered", minutes: down });
    }
    outageAlerted = false;
    disconnectedSince = null;
    logger.info({ attempts }, "whatsapp connected");
    armWatchdog();
    hooks.onOpen?.(sock);
  }

  async function onClose(code: number | undefined, message: string | undefined): Promise<void> {
    const wasStable = openedAt !== null && clock.now() - openedAt >= policy.stableAfterMs;
    socket = null;
    open = false;
    openedAt = null;
    generation++;
    clear("watchdog");
    if (wasStable) attempts = 0;
    const reason = disconnectReasonName(code);
    lastDisconnect = { code: code ?? null, reason, at: new Date(clock.now()).toISOString() };
    if (disconnectedSince === null) {
      disconnectedSince = clock.now();
      armOutageAlert();
    }
    const action = classifyDisconnect(code);
    if (action === "logged-out" && !auth.linked) {
      logger.warn({ code, reason, error: message }, "whatsapp refused the login; starting over");
      auth.reset();
      hooks.onLoginRejected?.();
      return scheduleReconnect(code);
    }
    if (action === "logged-out") {
      // Keep the lease: other processes must not log in with the dead session either.
      state = "logged-out";
      void leased?.ended("hold");
      clear("outage");
      if (loggingOut) {
        logger.info({ code, reason }, "whatsapp logged out on request; session cleared");
        await auth.clear();
        return;
      }
      logger.error({ code, reason }, "whatsapp logged out: the linked device was removed; session cleared");
      await auth
        .clear()
        .catch((err: unknown) =>
          logger.error({ error: (err as Error).message }, "whatsapp session could not be cleared"),
        );
      alert(
        "⚠️ WhatsApp was logged out (the linked device was removed), so signoff stopped using it and cleared its session. Link it again with `signoff whatsapp login`, then restart signoff.",
        { kind: "logged-out" },
      );
      return;
    }
    if (action === "replaced") {
      state = "replaced";
      void leased?.ended("hold"); // keep the lease: no process of ours fights the other client
      clear("outage");
      logger.error({ code, reason }, "whatsapp session replaced by another client; stopped");
      alert(
        "⚠️ WhatsApp: another client took over this session (connection replaced), so signoff stopped using it. Restart signoff to take it back.",
        {
          kind: "replaced",
        },
      );
      return;
    }
    if (action === "restart") {
      logger.info({ code, reason }, "whatsapp asked for a restart; reconnecting now");
      return void connect();
    }
    scheduleReconnect(code, message);
  }

  function scheduleReconnect(code: number | undefined, message?: string): void {
    if (!active) return;
    const delayMs = reconnectDelayMs(attempts, policy, random());
    attempts++;
    state = "waiting";
    logger.warn(
      { code, reason: disconnectReasonName(code), error: message, attempt: attempts, delayMs },
      "whatsapp disconnected; reconnecting after a pause",
    );
    later("reconnect", delayMs, () => void connect());
  }

  function armWatchdog(): void {
    if (!policy.watchdogMs || !open) return;
    const due = (lastEventAt ?? clock.now()) + policy.watchdogMs;
    later("watchdog", Math.max(0, due - clock.now()), () => {
      if (!open) return;
      const idleMs = clock.now() - (lastEventAt ?? 0);
      if (idleMs < policy.watchdogMs) return armWatchdog();
      logger.warn({ idleMs }, "whatsapp socket open but silent; reconnecting");
      void dropSocket().then(() => connect());
    });
  }

  function armOutageAlert(): void {
    if (!policy.outageAlertMs) return;
    later("outage", policy.outageAlertMs, () => {
      if (!active || open || disconnectedSince === null || !auth.linked) return;
      if (state === "logged-out" || state === "replaced" || state === "standby") return;
      outageAlerted = true;
      const down = minutes(clock.now() - disconnectedSince);
      const reason = lastDisconnect?.reason ?? null;
      alert(
        `⚠️ WhatsApp has been disconnected for ${down} min${reason ? ` (last: ${reason})` : ""}; signoff keeps retrying.`,
        { kind: "outage", minutes: down, reason },
      );
    });
  }

  const leased: LeasedWork | undefined = lease
    ? runWhileLeased({
        lease,
        name: "whatsapp",
        logger,
        retryEveryMs: policy.leaseRetryMs,
        timers: clock,
        async start() {
          logger.info({ lease: lease.key }, "whatsapp lease acquired; connecting");
          reloadNeeded = true;
          await connect();
        },
        async stop(reason) {
          if (reason === "lost") {
            logger.warn({ lease: lease.key }, "whatsapp lease lost; closing the socket and standing by");
            state = "standby";
            clear("reconnect");
            await dropSocket();
            return;
          }
          await dropSocket();
          await auth.flush().catch(() => undefined); // before the release: the next holder loads it
        },
      })
    : undefined;

  return {
    async start() {
      if (active) throw new Error("whatsapp connection already started");
      active = true;
      state = "connecting";
      disconnectedSince = clock.now();
      armOutageAlert();
      if (!leased) return connect();
      await leased.start();
      if (!leased.running) state = "standby";
    },

    async stop() {
      if (!active) return;
      active = false;
      state = "stopped";
      for (const name of Object.keys(timers) as Array<keyof typeof timers>) clear(name);
      if (leased) return leased.stop();
      await dropSocket();
      await auth.flush().catch(() => undefined);
    },

    openSocket: () => (open ? socket : null),

    async logout() {
      const sock = open ? socket : null;
      if (!sock) throw new Error("whatsapp logout: not connected");
      loggingOut = true;
      await sock.logout("signoff whatsapp logout");
    },

    status: () => ({
      state,
      connected: open,
      linked: auth.linked,
      leaseHeld: lease ? lease.held : active,
      reconnectAttempts: attempts,
      lastDisconnect,
      lastEventAt,
      disconnectedSince,
    }),
  };
}
