/**
 * Holds one WhatsApp socket and keeps it alive: takes the lease (one process per account),
 * builds sockets over the PostgreSQL session, persists every creds update, logs the QR or asks
 * for a pairing code once the socket is ready for it, and applies the disconnect policy of
 * `whatsapp-policy.ts` (stop on 401/440, reconnect now on 515, otherwise back off 2 s → 60 s
 * forever). A watchdog replaces a socket that is open but deaf; a long outage alerts the owners.
 * What one socket's events mean is wired in `whatsapp-socket-wiring.ts`; what the owners are
 * told, and when an outage is worth telling, is in `whatsapp-alerts.ts`.
 */
import type { UserFacingSocketConfig } from "@whiskeysockets/baileys";
import type { Lease } from "../../jobs/redis/lease.js";
import { type LeasedWork, runWhileLeased } from "../../jobs/redis/run-while-leased.js";
import { createAlertSender, createOutageWatch } from "./whatsapp-alerts.js";
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
import { type Clock, type MakeSocket, type WhatsAppSocket, systemClock } from "./whatsapp-socket.js";
import { socketConfigFor, wireSocket } from "./whatsapp-socket-wiring.js";

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
  let lastEventAt: number | null = null;
  let lastDisconnect: ConnectionStatus["lastDisconnect"] = null;
  let loggingOut = false; // a 401 we asked for is not news for the owners
  const timers = { reconnect: undefined as unknown, watchdog: undefined as unknown };

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
  const alert = createAlertSender(hooks, logger);
  const outage = createOutageWatch({
    clock,
    alertAfterMs: policy.outageAlertMs,
    send: alert,
    stillDown: () =>
      active && !open && auth.linked && state !== "logged-out" && state !== "replaced" && state !== "standby",
    lastReason: () => lastDisconnect?.reason ?? null,
  });

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
      sock = deps.makeSocket(
        socketConfigFor({ auth, baileysLogger, socketConfig: deps.socketConfig, getMessage: deps.getMessage }),
      );
    } catch (err) {
      logger.error({ error: (err as Error).message }, "whatsapp socket could not be created");
      scheduleReconnect(undefined);
      return;
    }
    socket = sock;
    const isCurrent = () => gen === generation;
    wireSocket(sock, {
      auth,
      logger,
      hooks,
      pairingPhone: deps.pairingPhone,
      isCurrent,
      onActivity: touch,
      onOpen,
      onClose: (code, message) => void onClose(code, message),
    });
    hooks.attach?.(sock, isCurrent);
  }

  function touch(): void {
    lastEventAt = clock.now();
  }

  function onOpen(sock: WhatsAppSocket): void {
    open = true;
    state = "open";
    openedAt = clock.now();
    outage.up();
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
    outage.down();
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
      outage.cancel();
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
      alert({ kind: "logged-out" });
      return;
    }
    if (action === "replaced") {
      state = "replaced";
      void leased?.ended("hold"); // keep the lease: no process of ours fights the other client
      outage.cancel();
      logger.error({ code, reason }, "whatsapp session replaced by another client; stopped");
      alert({ kind: "replaced" });
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
      outage.begin();
      if (!leased) return connect();
      await leased.start();
      if (!leased.running) state = "standby";
    },

    async stop() {
      if (!active) return;
      active = false;
      state = "stopped";
      for (const name of Object.keys(timers) as Array<keyof typeof timers>) clear(name);
      outage.cancel();
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
      disconnectedSince: outage.since(),
    }),
  };
}
