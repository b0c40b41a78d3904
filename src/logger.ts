/**
 * The one pino root logger. Its redact list removes tokens, secrets and authorization headers
 * wherever they appear in logged objects; child loggers add context. On a terminal the lines are
 * pretty and coloured for the person watching; anywhere else (tests, production, log shippers)
 * they stay one JSON object per line.
 */
import { pino, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";

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

/** How lines are written: `auto` is pretty on a terminal and JSON otherwise. */
export type LogFormat = "auto" | "pretty" | "json";

/** Where and how the root logger writes. */
export interface LoggerOutput {
  /** Where lines go. @defaultValue process.stdout */
  destination?: NodeJS.WritableStream;
  /** @defaultValue "auto" */
  format?: LogFormat;
}

/** The format `auto` stands for on this destination: pretty only when a person is watching it. */
export function resolveLogFormat(format: LogFormat, destination: NodeJS.WritableStream): "pretty" | "json" {
  if (format !== "auto") return format;
  return (destination as { isTTY?: boolean }).isTTY ? "pretty" : "json";
}

/**
 * Build the root logger: JSON or pretty lines (see {@link LogFormat}) to stdout, or to
 * `destination` in tests. Redaction runs before either format, so both hide the same fields.
 *
 * @example
 * const logger = createLogger("info", { format: "json" });
 * logger.info({ approvalId }, "approval created");
 */
export function createLogger(level: string, output: NodeJS.WritableStream | LoggerOutput = {}): Logger {
  const { destination, format = "auto" } = isStream(output) ? { destination: output } : output;
  const options = { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { app: "signoff" } };
  const target = destination ?? process.stdout;
  if (resolveLogFormat(format, target) === "json") return destination ? pino(options, destination) : pino(options);
  const pretty = prettyFactory({
    // Colours only where a terminal shows them; a forced pretty format into a file stays plain.
    colorize: Boolean((target as { isTTY?: boolean }).isTTY),
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,app",
    singleLine: true, // one event, one line: a busy log stays scannable
  });
  // Formatted in process and written at once, so a line logged just before exit is not lost.
  return pino(options, { write: (line: string) => void target.write(pretty(line)) });
}

function isStream(output: NodeJS.WritableStream | LoggerOutput): output is NodeJS.WritableStream {
  return typeof (output as NodeJS.WritableStream).write === "function";
}

export type { Logger };
