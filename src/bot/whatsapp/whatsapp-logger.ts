/**
 * The logger shape the WhatsApp adapter uses (a slice of pino), and the adapter that hands it to
 * Baileys. Baileys logs handshakes, nodes and key material at debug/trace, so by default only
 * its warnings and errors come through, with fields that may carry key material removed.
 */
import type { UserFacingSocketConfig } from "@whiskeysockets/baileys";

/** Baileys' logger interface (not exported by name from its package root). */
export type BaileysLogger = NonNullable<UserFacingSocketConfig["logger"]>;

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** The slice of a pino logger the adapter uses. */
export interface WhatsAppLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): WhatsAppLogger;
}

/** How much of Baileys' own logging to let through. */
export type BaileysLogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<BaileysLogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/** Field names Baileys may put key material or raw protocol nodes under; never forwarded. */
const SECRET_FIELDS = new Set([
  "creds",
  "keys",
  "key",
  "keyPair",
  "private",
  "noiseKey",
  "signedIdentityKey",
  "signedPreKey",
  "advSecretKey",
  "node",
  "helloMsg",
  "handshake",
  "authState",
]);

function toFields(obj: unknown): { fields: Record<string, unknown>; msg?: string } {
  if (typeof obj === "string") return { fields: {}, msg: obj };
  if (obj instanceof Error) return { fields: { err: { message: obj.message, name: obj.name } } };
  if (obj === null || typeof obj !== "object") return { fields: { value: obj } };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj))
    fields[k] = SECRET_FIELDS.has(k) ? "[redacted]" : v instanceof Error ? { message: v.message } : v;
  return { fields };
}

/**
 * Wraps a {@link WhatsAppLogger} as Baileys' `ILogger`, letting through `level` and above.
 *
 * @example
 * makeWASocket({ auth, logger: toBaileysLogger(logger.child({ component: "baileys" }), "warn") });
 */
export function toBaileysLogger(logger: WhatsAppLogger, level: BaileysLogLevel = "warn"): BaileysLogger {
  const threshold = RANK[level];
  const forward = (at: BaileysLogLevel, sink: LogFn | undefined) => (obj: unknown, msg?: string) => {
    if (RANK[at] < threshold || !sink) return;
    const { fields, msg: fromObj } = toFields(obj);
    sink(fields, msg ?? fromObj);
  };
  return {
    level,
    child: (bindings: Record<string, unknown>) => toBaileysLogger(logger.child(bindings), level),
    trace: forward("trace", logger.debug),
    debug: forward("debug", logger.debug),
    info: forward("info", logger.info),
    warn: forward("warn", logger.warn),
    error: forward("error", logger.error),
  };
}
