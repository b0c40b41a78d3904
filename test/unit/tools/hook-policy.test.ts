/**
 * The hook's policy: the built-in rules gate dangerous shell commands hard, other shell commands
 * and file changes medium, leave reading and signoff's own tools alone; a policy file's rules are
 * taken in order, and a bad one is refused naming the rule. The request made of a tool call keeps
 * within signoff's limits.
 */
import { describe, expect, it } from "vitest";
import { payloadOf, previewOf, requestFor } from "../../../src/tools/claude-code-hook.js";
import {
  compileHookPolicy,
  DEFAULT_HOOK_POLICY,
  gateFor,
  HookPolicyError,
  parseHookPolicy,
} from "../../../src/tools/hook-policy.js";

const policy = compileHookPolicy(DEFAULT_HOOK_POLICY);

describe("the built-in hook policy", () => {
  it.each([
    ["Bash", { command: "rm -rf build" }, "hard"],
    ["Bash", { command: "rm -fr /tmp/x" }, "hard"],
    ["Bash", { command: "git push origin main" }, "hard"],
    ["Bash", { command: "npm run deploy -- --prod" }, "hard"],
    ["Bash", { command: "psql -c 'DROP TABLE users'" }, "hard"],
    ["Bash", { command: "kubectl delete pod api-1" }, "hard"],
    ["Bash", { command: "terraform apply" }, "hard"],
    ["Bash", { command: "npm test" }, "medium"],
    ["Bash", { command: "ls dropbox/" }, "medium"],
    ["Write", { file_path: "/a.ts", content: "x" }, "medium"],
    ["Edit", { file_path: "/a.ts", old_string: "a", new_string: "b" }, "medium"],
    ["MultiEdit", { file_path: "/a.ts", edits: [] }, "medium"],
    ["NotebookEdit", { notebook_path: "/a.ipynb" }, "medium"],
    ["Read", { file_path: "/a.ts" }, "none"],
    ["Glob", { pattern: "**/*.ts" }, "none"],
    ["Grep", { pattern: "rm -rf" }, "none"],
    ["WebFetch", { url: "https://example.com/deploy" }, "none"],
    ["TodoWrite", { todos: [] }, "none"],
    ["mcp__signoff__request_approval", { title: "deploy" }, "none"],
    ["mcp__github__create_issue", { title: "x" }, "medium"],
    ["SomeNewTool", {}, "medium"],
  ] as const)("%s %j → %s", (tool, input, gate) => {
    expect(gateFor(policy, tool, input)).toBe(gate);
  });

  it("matches the whole tool name, not a part of it", () => {
    expect(gateFor(policy, "Reader", { file_path: "/a" })).toBe("medium");
    expect(gateFor(policy, "BashX", { command: "git push" })).toBe("medium");
  });
});

describe("a policy file", () => {
  it("takes its rules in order, the first match winning, and its default for the rest", () => {
    const custom = parseHookPolicy(
      "rules:\n  - tool: Bash\n    match: '^git status'\n    gate: none\n  - tool: Bash\n    gate: low\ndefault: none\n",
      "policy.yaml",
    );
    expect(gateFor(custom, "Bash", { command: "git status --short" })).toBe("none");
    expect(gateFor(custom, "Bash", { command: "git commit" })).toBe("low");
    expect(gateFor(custom, "Write", { file_path: "/a" })).toBe("none");
  });

  it("is refused naming the rule and field: a bad gate, a bad expression, an unknown field, not YAML", () => {
    const bad = (text: string) => () => parseHookPolicy(text, "p.yaml");
    expect(bad("rules:\n  - tool: Bash\n    gate: sometimes\n")).toThrow(/p\.yaml: rules\.0\.gate/);
    expect(bad("rules:\n  - tool: Bash\n    match: '(unclosed'\n    gate: hard\n")).toThrow(/rules\.0\.match/);
    expect(bad("rules:\n  - tool: Bash\n    gate: hard\n    when: always\n")).toThrow(/rules\.0/);
    expect(bad("rules: [\n")).toThrow(HookPolicyError);
  });
});

describe("the request made of a tool call", () => {
  const event = {
    tool_name: "Write",
    tool_input: { file_path: "/srv/app.ts", content: "x".repeat(40_000) },
    session_id: "5f1c9e2a-7b3d",
    tool_use_id: "toolu_1",
    cwd: "/srv",
  };

  it("keeps the title, preview and payload within signoff's limits, the payload pinning the content", () => {
    const request = requestFor(event, "medium");
    expect(request.title).toBe("Write: /srv/app.ts");
    expect(request.preview!.length).toBeLessThanOrEqual(3000);
    expect(Buffer.byteLength(JSON.stringify(request.payload))).toBeLessThanOrEqual(16_000);
    expect(request.payload).toMatchObject({ file_path: "/srv/app.ts", content: { length: 40_000 } });
    expect((request.payload as { content: { sha256: string } }).content.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(request.idempotencyKey).toBe("claude-code:5f1c9e2a-7b3d:toolu_1");
    expect(requestFor({ ...event, tool_use_id: "toolu_2" }, "medium").idempotencyKey).not.toBe(request.idempotencyKey);
  });

  it("sends a small input as is, and shows an edit as the lines it changes", () => {
    expect(payloadOf({ command: "ls" })).toEqual({ command: "ls" });
    expect(previewOf("Edit", { file_path: "/a.ts", old_string: "1999", new_string: "2499" })).toBe(
      "/a.ts\n- 1999\n+ 2499",
    );
    expect(requestFor({ ...event, tool_name: "mcp weird name!" }, "medium").action).toBeUndefined();
  });
});
