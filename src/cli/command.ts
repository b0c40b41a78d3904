/**
 * The shape of one `signoff` command and the small pieces every command shares: where output
 * goes, the environment it reads, its usage text, and flag parsing that refuses unknown flags.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Where a command writes and what environment it reads (tests pass their own). */
export interface CliIo {
  /** A line for the person: results, help. */
  out: (line: string) => void;
  /** A line about a problem: errors, usage after a mistake. */
  err: (line: string) => void;
  /** The environment (with `.env` merged) that config is loaded from. */
  env: NodeJS.ProcessEnv;
}

/**
 * One entry of the command table: its usage text (shown by `signoff <name> --help`), the lines
 * it adds to `signoff --help`, and `run` with the arguments after its name; returns the exit code.
 *
 * @example
 * const hello: CliCommand = { summary: "  hello   say hello", usage: "usage: signoff hello", run: async (_, io) => (io.out("hello"), 0) };
 */
export interface CliCommand {
  /** Lines for the overview in `signoff --help`, indented by two spaces. */
  summary: string;
  /** Full usage of this command (starts with `usage: signoff <name>`). */
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit code of a usage, config or connection problem (the same as `signoff ask`'s). */
export const EXIT_USAGE = 2;

/** A mistake in how the command was called: printed as one line, then the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** A problem the operator can fix (environment, connection, missing tool): one line, exit 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Whether the arguments ask for help (`--help` or `-h` anywhere before a `--`). */
export function wantsHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

/**
 * Parse a command's flags strictly: an unknown flag or a stray argument is a {@link UsageError}
 * naming it, never silently ignored.
 *
 * @example
 * const { values } = parseFlags(args, { out: { type: "string" } }, BACKUP_USAGE);
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  usage: string,
  positionals: { max: number } = { max: 0 },
) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }), usage);
  }
  const extra = parsed.positionals[positionals.max];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`, usage);
  return parsed;
}

// node:util's messages are long and mention `strict: false`, which means nothing to an operator.
function describeParseError(error: Error & { code?: string }): string {
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1];
  if (!flag) return error.message;
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option '${flag}'`;
  if (/argument missing/.test(error.message)) return `option '${flag}' needs a value`;
  return error.message;
}
