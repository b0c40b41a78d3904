/**
 * The `signoff` command line. Each command is one entry of {@link COMMANDS} (its usage and its
 * `run`); this file only dispatches, prints help and turns errors into one line and an exit code.
 * Run with `signoff <command>` (bin/signoff.mjs) or `npm run signoff -- <command>`.
 */
import { pathToFileURL } from "node:url";
import { askCommand } from "./cli/ask-command.js";
import { auditCommand } from "./cli/audit-command.js";
import { backupCommand } from "./cli/backup-command.js";
import { describeCliError } from "./cli/cli-errors.js";
import { type CliCommand, type CliIo, EXIT_USAGE, wantsHelp } from "./cli/command.js";
import { hookCommand } from "./cli/hook-command.js";
import { mcpCommand } from "./cli/mcp-command.js";
import { migrateCommand } from "./cli/migrate-command.js";
import { runCommand } from "./cli/run-command.js";
import { tokenCommand } from "./cli/token-command.js";
import { whatsappCommand } from "./cli-whatsapp.js";
import { environmentWithDotEnv } from "./config.js";

/** Every command, by the name typed after `signoff`; add a command by adding an entry. */
export const COMMANDS: Readonly<Record<string, CliCommand>> = {
  audit: auditCommand,
  token: tokenCommand,
  migrate: migrateCommand,
  backup: backupCommand,
  whatsapp: whatsappCommand,
  ask: askCommand,
  run: runCommand,
  mcp: mcpCommand,
  hook: hookCommand,
};

/** `signoff --help`: every command's summary, and where settings come from. */
export function overview(commands: Readonly<Record<string, CliCommand>> = COMMANDS): string {
  return `usage: signoff <command> [options]

${Object.values(commands)
  .map((c) => c.summary)
  .join("\n")}
  help [command]       this text, or one command's usage (also: signoff <command> --help)

Settings come from the environment, and from a .env file in the current directory for those the
environment leaves unset. Exit codes: 0 done, 1 the check failed (ask, run: rejected), 2 usage, config
or connection error; ask and run also 3 changes requested, 4 cancelled or no decision in time.`;
}

/**
 * Run one CLI command; returns the process exit code and never throws: errors become one line
 * on `err` (no stack, no password).
 *
 * @example
 * const code = await runCli(["audit", "verify"], (line) => lines.push(line), { env: { DATABASE_URL } });
 */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  io: Partial<Omit<CliIo, "out">> = {},
): Promise<number> {
  const err = io.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let env: NodeJS.ProcessEnv | undefined = io.env;
  try {
    env ??= environmentWithDotEnv();
    const [name, ...args] = argv;
    if (name === undefined || name === "--help" || name === "-h") {
      out(overview());
      return 0;
    }
    if (name === "help") return help(args, out, err);
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) return unknown(name.startsWith("-") ? "option" : "command", name, err);
    if (wantsHelp(args)) {
      out(command.usage);
      return 0;
    }
    return await command.run(args, { out, err, env });
  } catch (error) {
    const described = describeCliError(error, env?.DATABASE_URL);
    for (const line of described.lines) err(line);
    return described.code;
  }
}

function help(args: string[], out: (line: string) => void, err: (line: string) => void): number {
  const [name] = args;
  if (name === undefined) {
    out(overview());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command) {
    out(command.usage);
    return 0;
  }
  return unknown("command", name, err);
}

function unknown(what: "command" | "option", name: string, err: (line: string) => void): number {
  err(`signoff: unknown ${what} '${name}'`);
  err("");
  err(overview());
  return EXIT_USAGE;
}

/**
 * The process entry: run `argv` and exit with its code once output is flushed. bin/signoff.mjs
 * calls it; `tsx src/cli.ts` reaches it through the check below.
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const code = await runCli(argv);
  // Exit even if a library left a timer behind, but only after what was written has gone out.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
