/**
 * What the owners are told about the WhatsApp connection, and when: the English text of each
 * alert, a sender that never throws into the connection, and the outage watch that alerts once
 * a linked account has been down for a while and again when it is back.
 */
import type { WhatsAppLogger } from "./whatsapp-logger.js";
import type { WhatsAppAlert } from "./whatsapp-policy.js";
import type { Clock } from "./whatsapp-socket.js";

/** Whole minutes of a duration, at least 1: "down for 0 min" would read like no outage. */
export function alertMinutes(ms: number): number {
  return Math.max(1, Math.round(ms / 60_000));
}

/**
 * The text the owners read for an alert.
 *
 * @example alertText({ kind: "recovered", minutes: 12 }) // "✅ WhatsApp is connected again after 12 min."
 */
export function alertText(alert: WhatsAppAlert): string {
  switch (alert.kind) {
    case "logged-out":
      return "⚠️ WhatsApp was logged out (the linked device was removed), so signoff stopped using it and cleared its session. Link it again with `signoff whatsapp login`, then restart signoff.";
    case "replaced":
      return "⚠️ WhatsApp: another client took over this session (connection replaced), so signoff stopped using it. Restart signoff to take it back.";
    case "outage":
      return `⚠️ WhatsApp has been disconnected for ${alert.minutes} min${alert.reason ? ` (last: ${alert.reason})` : ""}; signoff keeps retrying.`;
    case "recovered":
      return `✅ WhatsApp is connected again after ${alert.minutes} min.`;
  }
}

/** Where alerts go: the connection's `alert` hook, read when each alert is sent. */
export interface AlertHook {
  alert?(text: string, alert: WhatsAppAlert): void | Promise<void>;
}

/** Raises an alert without waiting for it. */
export type SendAlert = (alert: WhatsAppAlert) => void;

/**
 * A sender for `hooks.alert`: a hook that throws or rejects is logged, never thrown into the
 * connection, since a failed alert must not take the WhatsApp socket down with it.
 */
export function createAlertSender(hooks: AlertHook, logger: WhatsAppLogger): SendAlert {
  return (detail) => {
    const text = alertText(detail);
    void Promise.resolve()
      .then(() => hooks.alert?.(text, detail))
      .catch((err: unknown) => logger.error({ error: (err as Error).message }, "whatsapp alert could not be sent"));
  };
}

/** Dependencies of {@link createOutageWatch}. */
export interface OutageWatchDeps {
  clock: Clock;
  /** Alert once an outage has lasted this long; 0 disables the outage alert. */
  alertAfterMs: number;
  send: SendAlert;
  /** Whether the alert is still news when it falls due (still down, linked, not stopped on purpose). */
  stillDown(): boolean;
  /** The name of the last disconnect reason, for the alert text. */
  lastReason(): string | null;
}

/** Tracks the current outage of the connection; see {@link createOutageWatch}. */
export interface OutageWatch {
  /** An outage begins now (the connection starts): arm the alert. */
  begin(): void;
  /** The socket closed: an outage begins now unless one is already running. */
  down(): void;
  /** The socket is open: the outage is over; tell the owners if they were told it began. */
  up(): void;
  /** No outage alert any more (stopped, or a terminal close that raised its own alert). */
  cancel(): void;
  /** When the current outage began, null while open. */
  since(): number | null;
}

/**
 * The outage watch: one alert after `alertAfterMs` of a single outage (however many reconnects
 * fail in it), and a "connected again" alert only when that first alert was sent.
 */
export function createOutageWatch(deps: OutageWatchDeps): OutageWatch {
  const { clock } = deps;
  let since: number | null = null;
  let alerted = false;
  let timer: unknown;

  const cancel = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
  const arm = () => {
    if (!deps.alertAfterMs) return;
    cancel();
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (since === null || !deps.stillDown()) return;
      alerted = true;
      deps.send({ kind: "outage", minutes: alertMinutes(clock.now() - since), reason: deps.lastReason() });
    }, deps.alertAfterMs);
  };

  return {
    begin() {
      since = clock.now();
      arm();
    },
    down() {
      if (since !== null) return;
      since = clock.now();
      arm();
    },
    up() {
      cancel();
      if (alerted && since !== null) deps.send({ kind: "recovered", minutes: alertMinutes(clock.now() - since) });
      alerted = false;
      since = null;
    },
    cancel,
    since: () => since,
  };
}
