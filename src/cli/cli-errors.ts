/**
 * Turns whatever a command threw into the one line an operator reads and the exit code: 2 for
 * usage, config and connection problems (something to fix before trying again), 1 otherwise.
 * Never a stack, never the database password.
 */
import { ConfigError } from "../config.js";
import { CliError, EXIT_USAGE, UsageError } from "./command.js";

/** What to print (lines, without the `signoff: ` prefix on usage text) and the exit code. */
export interface DescribedError {
  lines: string[];
  code: number;
}

// Errors of the socket (refused, no route, no such host, reset) and of the pool's connect timeout.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
]);
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is PostgreSQL running there?)",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be resolved (DNS)",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "the connection was reset",
};

/**
 * Describe an error thrown by a command.
 *
 * @example
 * const { lines, code } = describeCliError(error, io.env.DATABASE_URL);
 */
export function describeCliError(error: unknown, databaseUrl: string | undefined): DescribedError {
  if (error instanceof UsageError) return { lines: [`signoff: ${error.message}`, "", error.usage], code: EXIT_USAGE };
  const scrub = (text: string) => scrubPassword(text, databaseUrl);
  if (error instanceof ConfigError) return { lines: [`signoff: ${scrub(oneLine(error.message))}`], code: EXIT_USAGE };
  if (error instanceof CliError) return { lines: [`signoff: ${scrub(error.message)}`], code: EXIT_USAGE };
  const e = (error ?? {}) as { code?: unknown; message?: unknown; errors?: unknown[] };
  const code = typeof e.code === "string" ? e.code : firstCode(e.errors);
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const where = `DATABASE_URL (${databaseHost(databaseUrl)})`;
  if (
    (code && NETWORK_CODES.has(code)) ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(message)
  )
    return {
      lines: [`signoff: cannot reach PostgreSQL at ${where}: ${scrub(NETWORK_WORDS[code ?? ""] ?? message)}`],
      code: EXIT_USAGE,
    };
  // SQLSTATE class 28: login refused; 3D000: no such database.
  if (code && (code.startsWith("28") || code === "3D000"))
    return { lines: [`signoff: PostgreSQL at ${where} refused the connection: ${scrub(message)}`], code: EXIT_USAGE };
  if (code === "42P01")
    return {
      lines: [
        `signoff: ${scrub(message)}: the schema has no signoff tables (check DATABASE_SCHEMA, or run \`signoff migrate\`)`,
      ],
      code: EXIT_USAGE,
    };
  return { lines: [`signoff: ${scrub(oneLine(message))}`], code: 1 };
}

/** `host:port` of a PostgreSQL URL, for messages (never the user or password). */
export function databaseHost(url: string | undefined): string {
  if (!url) return "not set";
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}`;
  } catch {
    return "unparsable URL";
  }
}

/** Replace the URL's password (raw and decoded) wherever it appears in `text`. */
export function scrubPassword(text: string, url: string | undefined): string {
  let password = "";
  try {
    password = url ? new URL(url).password : "";
  } catch {
    return text;
  }
  if (!password) return text;
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // keep the raw form only
  }
  return text.split(password).join("***").split(decoded).join("***");
}

function firstCode(errors: unknown[] | undefined): string | undefined {
  // Node reports a failed connection to a name with several addresses as an AggregateError.
  const first = errors?.find((e) => typeof (e as { code?: unknown }).code === "string") as { code: string } | undefined;
  return first?.code;
}

// ConfigError names one field a line under a heading: "heading: field: problem; field: problem".
function oneLine(message: string): string {
  const [head = "", ...rest] = message
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return rest.length ? `${head} ${rest.join("; ")}` : head;
}
