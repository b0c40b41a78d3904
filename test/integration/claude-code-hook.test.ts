/**
 * `signoff hook claude-code` as Claude Code runs it: bin/signoff.mjs spawned with a recorded
 * PreToolUse event on stdin, against a real signoff whose operators answer in the web chat. The
 * answer on stdout is allow after an approval, deny with the note after a rejection or a request
 * for changes, ask when nobody decided in time, when signoff is down, the token is wrong or the
 * input unreadable (never allow), and nothing at all for a read-only tool.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { api, cleanupTestInstance, eventually, SOURCE_TOKEN, startTestSignoff } from "../helpers/harness.js";
import { operatorDecides } from "../helpers/operator-decides.js";
import { spawnSignoff } from "../helpers/requester-cli.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";

let s: Signoff & { schema: string; prefix: string };
const cwd = mkdtempSync(join(tmpdir(), "signoff-hook-"));

beforeAll(async () => {
  s = await startTestSignoff();
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
  rmSync(cwd, { recursive: true, force: true });
});

/** A recorded event, as a new tool call (its own tool_use_id), with `input` merged into tool_input. */
function recorded(name: string, input: Record<string, unknown> = {}) {
  const event = JSON.parse(
    readFileSync(join(import.meta.dirname, "..", "fixtures", "claude-code", `${name}.json`), "utf8"),
  );
  return { ...event, tool_use_id: `toolu_${randomUUID()}`, tool_input: { ...event.tool_input, ...input } };
}

function hook(event: unknown, args: string[] = [], env: Record<string, string> = {}) {
  const stdin = typeof event === "string" ? event : JSON.stringify(event);
  return spawnSignoff(["hook", "claude-code", ...args], {
    cwd,
    env: { SIGNOFF_URL: s.url, SIGNOFF_TOKEN: SOURCE_TOKEN, ...env },
    stdin,
  });
}

/** The pending request titled `title`, once the hook has made it. */
const pendingTitled = (title: string) =>
  eventually(async () => {
    const { body } = await api(s, "GET", "/api/approvals?status=pending&limit=500");
    return body.approvals.find((a: { title: string }) => a.title === title);
  }, `pending request "${title}"`);

const decisionOf = (stdout: string) => JSON.parse(stdout).hookSpecificOutput;

describe("signoff hook claude-code", () => {
  it("allows a dangerous Bash command once approved at the hard gate, the command as the preview", async () => {
    const event = recorded("bash-dangerous");
    const run = hook(event);
    const request = await pendingTitled("Bash: git push --force origin main");
    expect(request).toMatchObject({
      gate: "hard",
      preview: "git push --force origin main",
      action: "Bash",
      agent: "claude-code 5f1c9e2a",
      reason: "Push the rebased main branch in /home/dev/shop",
    });
    expect(request.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    await operatorDecides(s, request.code, { verdict: "approve" }, "eve");
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(decisionOf(result.stdout)).toEqual({
      hookEventName: "PreToolUse",
      permissionDecision: "allow",
      permissionDecisionReason: `approved by eve in signoff (${request.code})`,
    });

    // The same tool call asked again (a re-run of the hook) finds its request: no second card.
    const again = await hook(event).done;
    expect(decisionOf(again.stdout)).toMatchObject({ permissionDecision: "allow" });
    const { body } = await api(s, "GET", "/api/approvals?limit=500");
    expect(body.approvals.filter((a: { title: string }) => a.title === request.title)).toHaveLength(1);
  });

  it("denies with the operator's note when a benign Bash command (medium) is rejected", async () => {
    const run = hook(recorded("bash-benign"));
    const request = await pendingTitled("Bash: npm test -- --run");
    expect(request.gate).toBe("medium");
    await operatorDecides(s, request.code, { verdict: "reject", note: "not on the release box" });
    const answer = decisionOf((await run.done).stdout);
    expect(answer.permissionDecision).toBe("deny");
    expect(answer.permissionDecisionReason).toContain("rejected by adam: not on the release box");
  });

  it("denies with the note when changes are requested on a Write, so the model adjusts", async () => {
    const run = hook(recorded("write", { file_path: "/home/dev/shop/src/price.ts" }));
    const request = await pendingTitled("Write: /home/dev/shop/src/price.ts");
    expect(request).toMatchObject({ gate: "medium", preview: expect.stringContaining("PRICE_CENTS = 1999") });
    await operatorDecides(s, request.code, { verdict: "changes", note: "keep it at 2499" });
    const answer = decisionOf((await run.done).stdout);
    expect(answer.permissionDecision).toBe("deny");
    expect(answer.permissionDecisionReason).toMatch(/changes requested by adam: keep it at 2499.*try again/);
  });

  it("asks (Claude's own prompt) when nobody decides within --wait, naming the code", async () => {
    const result = await hook(recorded("bash-benign", { command: "npm run lint" }), ["--wait", "1"]).done;
    expect(result.code).toBe(0);
    const answer = decisionOf(result.stdout);
    const request = await pendingTitled("Bash: npm run lint");
    expect(answer.permissionDecision).toBe("ask");
    expect(answer.permissionDecisionReason).toContain(request.code);
  });

  it("asks, never allows, when signoff is down, the token is wrong, it is not configured or stdin is not an event", async () => {
    const proxy = await startTcpProxy(s.url);
    await proxy.down(); // a port where nothing listens
    const [down, wrongToken, notSet, garbage, noTool] = await Promise.all([
      hook(recorded("bash-dangerous"), [], { SIGNOFF_URL: proxy.url }).done,
      hook(recorded("bash-dangerous"), [], { SIGNOFF_TOKEN: "wrong-token-456" }).done,
      spawnSignoff(["hook", "claude-code"], { cwd, env: {}, stdin: JSON.stringify(recorded("write")) }).done,
      hook("this is not json").done,
      hook({ hook_event_name: "PreToolUse", tool_input: {} }).done,
    ]);
    for (const result of [down, wrongToken, notSet, garbage, noTool]) {
      expect(result.code).toBe(0);
      expect(decisionOf(result.stdout).permissionDecision).toBe("ask");
    }
    expect(decisionOf(notSet.stdout).permissionDecisionReason).toMatch(/SIGNOFF_URL is not set/);
    expect(wrongToken.stdout + wrongToken.stderr).not.toContain("wrong-token-456");
  });

  it("prints nothing for Read (not gated), and asks nothing of signoff", async () => {
    const result = await hook(recorded("read")).done;
    expect(result).toMatchObject({ code: 0, stdout: "" });
    const { body } = await api(s, "GET", "/api/approvals?limit=500");
    expect(body.approvals.some((a: { title: string }) => a.title.startsWith("Read:"))).toBe(false);
  });

  it("follows a policy file: its rules win, and a broken file makes every call ask", async () => {
    const policy = join(cwd, "policy.yaml");
    writeFileSync(policy, "rules:\n  - tool: Read\n    match: secrets\n    gate: prohibited\ndefault: none\n");
    const refused = await hook(recorded("read", { file_path: "/home/dev/shop/secrets.env" }), ["--policy", policy])
      .done;
    expect(decisionOf(refused.stdout)).toMatchObject({ permissionDecision: "deny" });
    expect(decisionOf(refused.stdout).permissionDecisionReason).toMatch(/rejected by policy/);
    const free = await hook(recorded("bash-dangerous"), [], { SIGNOFF_HOOK_POLICY: policy }).done;
    expect(free.stdout).toBe(""); // default none: not asked

    const broken = join(cwd, "broken.yaml");
    writeFileSync(broken, "rules:\n  - tool: Bash\n    gate: sometimes\n");
    const result = await hook(recorded("read"), ["--policy", broken]).done;
    expect(decisionOf(result.stdout).permissionDecision).toBe("ask");
    expect(result.stderr).toMatch(/rules\.0\.gate/);
  });
});
