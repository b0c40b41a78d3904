/**
 * `signoff run [ask options] -- <cmd...>`: ask, and run the command only once it is approved,
 * with the terminal's stdin, stdout and stderr, passing its exit code through (a death by signal
 * becomes 128 + the signal's number, as shells report it). On any other outcome the command never
 * starts and `run` exits like `ask`.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { ASK_OPTIONS, ASK_OPTIONS_USAGE, askForApproval, readAskRequest } from "./ask-command.js";
import { type CliCommand, parseFlags, UsageError } from "./command.js";

const USAGE = `usage: signoff run --title T [ask options] -- <command> [args...]

  Ask like \`signoff ask\`; when approved, run the command (no shell: pass \`sh -c '...'\` for one)
  and exit with its exit code. When not approved the command does not run and the exit code is
  ask's. A command that cannot be started exits 127.

${ASK_OPTIONS_USAGE}`;

/** Exit code when the approved command cannot be started (not found, not executable), as in shells. */
export const EXIT_NOT_STARTED = 127;

// Signals a terminal sends to the whole foreground group reach the command by themselves; these
// usually come from a supervisor aimed at signoff only, so they are passed on.
const FORWARDED = ["SIGTERM", "SIGHUP"] as const;
const GROUP_SIGNALS = ["SIGINT", "SIGQUIT"] as const;

/**
 * Run `argv` with inherited stdio; resolves to its exit code (128 + n for a death by signal n).
 *
 * @example
 * const code = await runInherited(["sh", "-c", "exit 7"], (line) => process.stderr.write(`${line}\n`)); // 7
 */
export function runInherited(argv: string[], err: (line: string) => void): Promise<number> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    const ignore = () => undefined;
    for (const s of FORWARDED) process.on(s, forward);
    for (const s of GROUP_SIGNALS) process.on(s, ignore);
    const done = (code: number) => {
      for (const s of FORWARDED) process.removeListener(s, forward);
      for (const s of GROUP_SIGNALS) process.removeListener(s, ignore);
      resolve(code);
    };
    child.on("error", (error) => {
      err(`signoff: cannot run '${command}': ${(error as Error).message}`);
      done(EXIT_NOT_STARTED);
    });
    child.on("exit", (code, signal) => {
      if (signal) done(128 + (constants.signals[signal] ?? 0));
      else done(code ?? 1);
    });
  });
}

/** The `run` entry of the command table. */
export const runCommand: CliCommand = {
  summary: "  run [...] -- CMD     ask like ask, and run CMD only when approved; exit with its exit code",
  usage: USAGE,
  async run(args, io) {
    const split = args.indexOf("--");
    if (split === -1) throw new UsageError("the command goes after --", USAGE);
    const argv = args.slice(split + 1);
    if (argv.length === 0) throw new UsageError("no command after --", USAGE);
    const { values } = parseFlags(args.slice(0, split), ASK_OPTIONS, USAGE);
    const request = await readAskRequest(values, USAGE);
    const outcome = await askForApproval(request, io);
    if (outcome.code !== 0) return outcome.code;
    return runInherited(argv, io.err);
  },
};
