/** The logger shape the Telegram adapter uses, so it depends on no logging library. */

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

/** The slice of a pino logger the adapter uses. */
export interface TelegramLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): TelegramLogger;
}
