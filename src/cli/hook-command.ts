/**
 * `signoff hook claude-code`: Claude Code's PreToolUse hook. Reads the event on stdin, asks
 * signoff when the policy gates the tool, and prints the hook answer on stdout; exits 0 whatever
 * happened, so the answer (allow, deny or ask; never allow when anything went wrong) is what
 * Claude Code acts on.
 */
import { readFile } from "node:fs/promises";
import { answerPreToolUse, type HookDeps, hookAnswer } from "../tools/claude-code-hook.js";
import { compileHookPolicy, DEFAULT_HOOK_POLICY, type HookPolicy, parseHookPolicy } from "../tools/hook-policy.js";
import { type CliCommand, parseFlags, UsageError } from "./command.js";
import { requesterClient } from "./requester-client.js";
import { readStdin } from "./stdin.js";

const USAGE = `usage: signoff hook claude-code [--wait 50] [--policy FILE]

  Claude Code PreToolUse hook: reads the event JSON on stdin; when the policy gates the tool,
  asks signoff (title from the tool and its input, action = the tool name, payload = its input)
  and waits, then prints {"hookSpecificOutput":{"hookEventName":"PreToolUse",
  "permissionDecision":"allow|deny|ask",...}}: approved → allow, rejected or changes requested →
  deny with the note, no decision in time → ask (Claude's own prompt); signoff unreachable, a
  bad token or bad input → ask, never allow. A tool the policy does not gate: no output.

  --wait S       seconds to wait for a decision (default 50; keep it under the hook's timeout,
                 60 s unless settings.json gives one)
  --policy FILE  YAML rules (default: SIGNOFF_HOOK_POLICY, else the built-in policy):
                   rules:                        # first match wins
                     - tool: Bash                # regex for the whole tool name
                       match: "git push|deploy"  # regex searched in the command / path / URL
                       gate: hard                # auto, low, medium, hard, prohibited or none
                   default: medium               # tools no rule names

  SIGNOFF_URL and SIGNOFF_TOKEN come from the environment or .env.`;

const CREATE_BUDGET_MS = 3000;

/** The `hook` entry of the command table. */
export const hookCommand: CliCommand = {
  summary: "  hook claude-code     Claude Code PreToolUse hook: ask signoff, answer allow, deny or ask",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { wait: { type: "string" }, policy: { type: "string" } }, USAGE, {
      max: 1,
    });
    if (positionals[0] !== "claude-code")
      throw new UsageError(
        positionals[0] ? `unknown agent '${positionals[0]}' (known: claude-code)` : "which agent? claude-code",
        USAGE,
      );
    const waitSeconds = values.wait === undefined ? 50 : Number(values.wait);
    if (!Number.isFinite(waitSeconds) || waitSeconds <= 0 || waitSeconds > 600)
      throw new UsageError(`--wait must be seconds between 0 and 600 (got '${values.wait}')`, USAGE);

    const eventText = await readStdin();
    let policy: HookPolicy;
    try {
      policy = await loadPolicy(values.policy ?? io.env.SIGNOFF_HOOK_POLICY);
    } catch (error) {
      // A broken policy must not let calls through: every call falls back to Claude's own prompt.
      io.err(`signoff hook: ${(error as Error).message}`);
      io.out(
        JSON.stringify(
          hookAnswer("ask", `signoff's hook policy is unusable (${(error as Error).message}): confirm here`),
        ),
      );
      return 0;
    }
    let client: HookDeps["client"];
    try {
      client = requesterClient(io.env, { retryBudgetMs: CREATE_BUDGET_MS });
    } catch (error) {
      client = { unavailable: (error as Error).message };
    }
    const reply = await answerPreToolUse(eventText, { client, policy, waitSeconds, log: io.err });
    if (reply) io.out(JSON.stringify(reply));
    return 0;
  },
};

async function loadPolicy(file: string | undefined): Promise<HookPolicy> {
  if (!file) return compileHookPolicy(DEFAULT_HOOK_POLICY, "built-in policy");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`policy ${file}: ${(error as Error).message}`);
  }
  return parseHookPolicy(text, `policy ${file}`);
}
