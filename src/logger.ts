/**
 * The one pino root logger. Its redact list removes tokens, secrets and authorization headers
 * wherever they appear in logged objects; child loggers add context.
 */
import { pino, type Logger } from "pino";

/** Paths never written to logs. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "botToken",
  "*.botToken",
  "secret",
  "*.secret",
  "signingSecret",
  "*.signingSecret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "TELEGRAM_BOT_TOKEN",
  "*.TELEGRAM_BOT_TOKEN",
  "TELEGRAM_WEBHOOK_SECRET",
  "*.TELEGRAM_WEBHOOK_SECRET",
  "SIGNOFF_SIGNING_SECRET",
  "*.SIGNOFF_SIGNING_SECRET",
  "DATABASE_URL",
  "*.DATABASE_URL",
];

/** Build the root logger (JSON to stdout, or to `destination` in tests). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { app: "signoff" } };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
