/**
 * Which of an agent's tool calls are asked for, and at which gate: an ordered list of rules, the
 * first match wins. `tool` is a regular expression for the whole tool name (as in Claude Code's
 * matchers), `match` an optional one searched in the call's subject (a Bash command, a file path,
 * a URL; otherwise its input as JSON), case-insensitively. Gate `none` means not asked: the agent's
 * own permission flow goes on as if signoff were not there.
 */
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { GATES, type Gate } from "../domain/approval.js";

/** A rule's gate: one of signoff's gates, or `none` (not asked). */
export type HookGate = Gate | "none";
const HOOK_GATES = [...GATES, "none"] as const;

/** One rule as written in the policy file. */
const RuleSchema = z.strictObject({
  tool: z.string().min(1),
  match: z.string().min(1).optional(),
  gate: z.enum(HOOK_GATES),
});

/** The policy file: `rules` in order, and `default` for a tool no rule names. */
export const HookPolicyFileSchema = z.strictObject({
  rules: z.array(RuleSchema).default([]),
  default: z.enum(HOOK_GATES).default("medium"),
});
/** A policy as written (YAML or the built-in default). */
export type HookPolicyFile = z.input<typeof HookPolicyFileSchema>;

/** A policy ready to decide: rules with their expressions compiled. */
export interface HookPolicy {
  rules: readonly { tool: RegExp; match: RegExp | null; gate: HookGate; source: string }[];
  default: HookGate;
}

/** The policy when none is given: dangerous shell commands hard, other changes medium, reading free. */
export const DEFAULT_HOOK_POLICY: HookPolicyFile = {
  rules: [
    // signoff's own MCP tools are how the agent asks: asking before asking would never end.
    { tool: "mcp__signoff__.*", gate: "none" },
    {
      tool: "Bash",
      match: String.raw`rm\s+-[a-z]*[rf]|git\s+push|deploy|\bdrop\b|truncate\s+table|kubectl\s+delete|terraform\s+(apply|destroy)`,
      gate: "hard",
    },
    { tool: "Bash", gate: "medium" },
    { tool: "Write|Edit|MultiEdit|NotebookEdit", gate: "medium" },
    {
      tool: "Read|Glob|Grep|LS|WebSearch|WebFetch|TodoWrite|TodoRead|NotebookRead|Task|Agent|BashOutput|ExitPlanMode|ListMcpResourcesTool|ReadMcpResourceTool",
      gate: "none",
    },
  ],
  default: "medium",
};

/** A policy that cannot be used, with what is wrong in it. */
export class HookPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HookPolicyError";
  }
}

/**
 * Compile a policy; a bad expression or field is a {@link HookPolicyError} naming the rule.
 *
 * @example
 * const policy = compileHookPolicy(DEFAULT_HOOK_POLICY);
 */
export function compileHookPolicy(file: unknown, where = "policy"): HookPolicy {
  const parsed = HookPolicyFileSchema.safeParse(file ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");
    throw new HookPolicyError(`${where}: ${problems}`);
  }
  const compile = (source: string, field: string, index: number, anchored: boolean) => {
    try {
      return new RegExp(anchored ? `^(?:${source})$` : source, anchored ? "" : "i");
    } catch (error) {
      throw new HookPolicyError(`${where}: rules.${index}.${field}: ${(error as Error).message}`);
    }
  };
  return {
    rules: parsed.data.rules.map((rule, index) => ({
      tool: compile(rule.tool, "tool", index, true),
      match: rule.match === undefined ? null : compile(rule.match, "match", index, false),
      gate: rule.gate,
      source: `${rule.tool}${rule.match ? ` ~ ${rule.match}` : ""}`,
    })),
    default: parsed.data.default,
  };
}

/** Read a YAML policy file's text. */
export function parseHookPolicy(yamlText: string, where: string): HookPolicy {
  let file: unknown;
  try {
    file = parseYaml(yamlText);
  } catch (error) {
    throw new HookPolicyError(`${where}: not YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  return compileHookPolicy(file, where);
}

// The field that says what a call does, for the tools whose input has one.
const SUBJECT_FIELDS = ["command", "file_path", "notebook_path", "path", "url", "pattern", "query"] as const;

/**
 * What a tool call is about, in one string: the Bash command, the file path, the URL; otherwise
 * the input as JSON.
 *
 * @example
 * subjectOf({ command: "git push origin main" }); // "git push origin main"
 */
export function subjectOf(input: Record<string, unknown>): string {
  for (const field of SUBJECT_FIELDS) {
    const value = input[field];
    if (typeof value === "string" && value !== "") return value;
  }
  return JSON.stringify(input);
}

/**
 * The gate for one tool call: the first rule whose `tool` matches the name and whose `match`
 * (if any) is found in the subject; the policy's default when none does.
 *
 * @example
 * gateFor(policy, "Bash", { command: "rm -rf build" }); // "hard"
 */
export function gateFor(policy: HookPolicy, toolName: string, input: Record<string, unknown>): HookGate {
  const subject = subjectOf(input);
  for (const rule of policy.rules) {
    if (rule.tool.test(toolName) && (rule.match === null || rule.match.test(subject))) return rule.gate;
  }
  return policy.default;
}
