/**
 * What to do when the WhatsApp socket closes, by Baileys' `DisconnectReason`, and how long to
 * wait before trying again (pure functions the connection applies), and the shapes of its
 * status and of the alerts it raises.
 */
import { DisconnectReason } from "@whiskeysockets/baileys";

/**
 * - `logged-out` (401): the device was unlinked; stop, clear the session, alert the owners.
 * - `replaced` (440): another client took the session over; stop and alert, do not fight it.
 * - `restart` (515): WhatsApp asks for a fresh connection (e.g. right after pairing); reconnect now.
 * - `reconnect`: anything else (lost, closed, timed out, 5xx…); back off and retry, forever.
 */
export type DisconnectAction = "logged-out" | "replaced" | "restart" | "reconnect";

/** Where the connection is. */
export type ConnectionState = "stopped" | "standby" | "connecting" | "open" | "waiting" | "logged-out" | "replaced";

/** A snapshot for health and logs. */
export interface ConnectionStatus {
  state: ConnectionState;
  connected: boolean;
  linked: boolean;
  leaseHeld: boolean;
  reconnectAttempts: number;
  lastDisconnect: { code: number | null; reason: string; at: string } | null;
  lastEventAt: number | null;
  /** When the current outage began (null while open). */
  disconnectedSince: number | null;
}

/** Why the owners are alerted; `text` of the alert says the same in English. */
export type WhatsAppAlert =
  | { kind: "logged-out" }
  | { kind: "replaced" }
  | { kind: "outage"; minutes: number; reason: string | null }
  | { kind: "recovered"; minutes: number };

/** Tunables of the connection; every field has a default. */
export interface ConnectionPolicy {
  /** First reconnect delay. @defaultValue 2000 */
  initialBackoffMs: number;
  /** Longest reconnect delay. @defaultValue 60000 */
  maxBackoffMs: number;
  /**
   * Reconnect a socket that is open but has delivered no event for this long; 0 disables.
   * @defaultValue 1200000 (20 min)
   */
  watchdogMs: number;
  /** A connection open this long resets the backoff. @defaultValue 60000 */
  stableAfterMs: number;
  /** How often a process without the lease tries to take it. @defaultValue 5000 */
  leaseRetryMs: number;
  /**
   * Alert the owners once a linked account has been disconnected this long; 0 disables. @defaultValue
   * 600000 (10 min)
   */
  outageAlertMs: number;
}

/** Defaults of {@link ConnectionPolicy}. */
export const DEFAULT_CONNECTION_POLICY: Readonly<ConnectionPolicy> = Object.freeze({
  initialBackoffMs: 2_000,
  maxBackoffMs: 60_000,
  watchdogMs: 20 * 60_000,
  stableAfterMs: 60_000,
  leaseRetryMs: 5_000,
  outageAlertMs: 10 * 60_000,
});

/**
 * The action for a close with this status code (undefined: closed without a reason).
 *
 * @example classifyDisconnect(DisconnectReason.restartRequired) // "restart"
 */
export function classifyDisconnect(code: number | undefined): DisconnectAction {
  switch (code) {
    case DisconnectReason.loggedOut:
      return "logged-out";
    case DisconnectReason.connectionReplaced:
      return "replaced";
    case DisconnectReason.restartRequired:
      return "restart";
    default:
      return "reconnect";
  }
}

/** Baileys' name for a status code ("connectionClosed"), for logs and alerts. */
export function disconnectReasonName(code: number | undefined): string {
  if (code === undefined) return "unknown";
  const name = (DisconnectReason as unknown as Record<number, string | undefined>)[code];
  return name ?? `status ${code}`;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from `initialBackoffMs`,
 * capped at `maxBackoffMs`, with "equal jitter" — between half and all of that step — so the
 * wait is never zero and never above the cap. `random` is in [0, 1).
 *
 * @example reconnectDelayMs(0, DEFAULT_CONNECTION_POLICY, 0.99) // ≈ 2000
 */
export function reconnectDelayMs(
  attempt: number,
  policy: Pick<ConnectionPolicy, "initialBackoffMs" | "maxBackoffMs">,
  random: number,
): number {
  const step = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt, 30));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(step / 2 + (step / 2) * r);
}
