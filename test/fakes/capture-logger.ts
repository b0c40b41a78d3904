/**
 * A pino-shaped logger that keeps every line in memory, for tests that assert on what was
 * logged and, above all, on what never is (tokens, webhook secrets).
 *
 * @example
 * const log = captureLogger();
 * createTelegramChannel({ token, logger: log.logger });
 * expect(log.dump()).not.toContain(token);
 */
import type { TelegramLogger } from "../../src/bot/telegram/telegram-logger.js";

/** One captured line: level, merged bindings and fields, message. */
export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}

/** Creates the logger; `dump()` serializes every line, errors with message and stack. */
export function captureLogger(): { logger: TelegramLogger; lines: LogLine[]; dump: () => string } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): TelegramLogger => {
    const at = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
      lines.push({ level, obj: { ...bindings, ...obj }, ...(msg === undefined ? {} : { msg }) });
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  const dump = () =>
    JSON.stringify(lines, (_key, value: unknown) =>
      value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
    );
  return { logger: make({}), lines, dump };
}
