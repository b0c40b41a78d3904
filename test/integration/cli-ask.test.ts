/**
 * `signoff ask` and `signoff run` as a deploy script runs them: bin/signoff.mjs spawned against a
 * real signoff, operators answering in its web chat. Each outcome has its exit code, the command
 * of `run` starts only when approved, a network drop while waiting leaves one request on record,
 * and Ctrl-C cancels the request.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { api, cleanupTestInstance, eventually, SOURCE_TOKEN, startTestSignoff } from "../helpers/harness.js";
import { operatorDecides } from "../helpers/operator-decides.js";
import { spawnSignoff } from "../helpers/requester-cli.js";
import { sql } from "../helpers/sql.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";

let s: Signoff & { schema: string; prefix: string };
const cwd = mkdtempSync(join(tmpdir(), "signoff-ask-"));

beforeAll(async () => {
  s = await startTestSignoff();
});
afterAll(async () => {
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
  rmSync(cwd, { recursive: true, force: true });
});

const env = (url = s.url) => ({ SIGNOFF_URL: url, SIGNOFF_TOKEN: SOURCE_TOKEN });
const signoff = (args: string[], options: { url?: string; stdin?: string } = {}) =>
  spawnSignoff(args, { cwd, env: env(options.url), ...(options.stdin ? { stdin: options.stdin } : {}) });
const recordOf = async (code: string) =>
  (await api(s, "GET", "/api/approvals?limit=500")).body.approvals.find((a: { code: string }) => a.code === code);
const rowsTitled = async (title: string) =>
  (await sql<{ n: string }>(s.schema, "SELECT count(*) AS n FROM approvals WHERE title = $1", [title]))[0]!.n;

describe("signoff ask", () => {
  it("exits 0 when approved, saying on stderr who was asked and who approved; --json prints the record", async () => {
    const run = signoff(["ask", "--title", "deploy api to prod", "--reason", "release 42", "--json"]);
    const code = await run.askedCode();
    expect(run.stderr()).toMatch(
      new RegExp(`asked ${code} "deploy api to prod" of approver or owner \\(1 needed, gate medium\\)`),
    );
    await operatorDecides(s, code, { verdict: "approve" }, "eve");
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${code} approved by eve`);
    expect(JSON.parse(result.stdout)).toMatchObject({
      code,
      status: "approved",
      decidedBy: "eve",
      reason: "release 42",
    });
  });

  it("exits 1 when rejected, with the operator's note on stderr", async () => {
    const run = signoff(["ask", "--title", "drop the cache"]);
    const code = await run.askedCode();
    await operatorDecides(s, code, { verdict: "reject", note: "not during the sale" });
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${code} rejected by adam: not during the sale`);
    expect(result.stdout).toBe("");
  });

  it("exits 1 when the deadline passes and the request is denied by timeout", async () => {
    const result = await signoff(["ask", "--title", "nobody answers", "--deadline", "1", "--timeout", "20"]).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rejected: nobody decided before the deadline/);
  });

  it("exits 3 when changes are requested, with the note alone on stdout", async () => {
    const run = signoff(["ask", "--title", "migrate the db"]);
    const code = await run.askedCode();
    await operatorDecides(s, code, { verdict: "changes", note: "use staging first" });
    const result = await run.done;
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("use staging first\n");
  });

  it("exits 4 when nobody decides within --timeout, and takes the request down", async () => {
    const run = signoff(["ask", "--title", "slow one", "--timeout", "1"]);
    const code = await run.askedCode();
    const result = await run.done;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`no decision on ${code} within 1s: cancelled it`);
    expect((await recordOf(code)).status).toBe("cancelled");
  });

  it("exits 4 when the request is cancelled by the source meanwhile", async () => {
    const run = signoff(["ask", "--title", "rotate keys"]);
    const code = await run.askedCode();
    await api(s, "POST", `/api/approvals/${(await recordOf(code)).id}/cancel`);
    expect((await run.done).code).toBe(4);
  });

  it("cancels the request on Ctrl-C, says so, exits 4", async () => {
    const run = signoff(["ask", "--title", "interrupt me"]);
    const code = await run.askedCode();
    run.child.kill("SIGINT");
    const result = await run.done;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`cancelled ${code}`);
    expect((await recordOf(code)).status).toBe("cancelled");
  });

  it("exits 2 naming what is wrong: a missing flag or variable, a bad token, an unreachable signoff", async () => {
    const proxy = await startTcpProxy(s.url);
    await proxy.down(); // a port where nothing listens
    const [noTitle, noUrl, noToken, badToken, hard, down] = await Promise.all([
      signoff(["ask"]).done,
      spawnSignoff(["ask", "--title", "x"], { cwd, env: { SIGNOFF_TOKEN: SOURCE_TOKEN } }).done,
      spawnSignoff(["ask", "--title", "x"], { cwd, env: { SIGNOFF_URL: s.url } }).done,
      spawnSignoff(["ask", "--title", "x"], { cwd, env: { SIGNOFF_URL: s.url, SIGNOFF_TOKEN: "wrong-token-123" } })
        .done,
      signoff(["ask", "--title", "wipe staging", "--gate", "hard"]).done,
      signoff(["ask", "--title", "never sent", "--timeout", "2"], { url: proxy.url }).done,
    ]);
    for (const result of [noTitle, noUrl, noToken, badToken, hard, down]) expect(result.code).toBe(2);
    expect(noTitle.stderr).toMatch(/^signoff: --title is required\n/);
    expect(noUrl.stderr).toMatch(/SIGNOFF_URL is not set/);
    expect(noToken.stderr).toMatch(/SIGNOFF_TOKEN is not set/);
    expect(badToken.stderr).toMatch(/401/);
    expect(badToken.stderr).not.toContain("wrong-token-123");
    expect(hard.stderr).toMatch(/preview: required for the hard gate/);
    expect(down.stderr).toMatch(/connection refused/);
    expect(await rowsTitled("never sent")).toBe("0");
  });

  it("rides out a network drop while waiting: it reconnects and there is one request on record", async () => {
    const proxy = await startTcpProxy(s.url);
    try {
      const title = `scale up ${randomUUID()}`;
      const run = signoff(["ask", "--title", title], { url: proxy.url });
      const code = await run.askedCode();
      const before = proxy.connections();
      await proxy.down(); // the waiting long poll is cut and new connections are refused
      await operatorDecides(s, code, { verdict: "approve" }, "bob");
      await new Promise((r) => setTimeout(r, 400)); // a few refused reconnects
      await proxy.up();
      const result = await run.done;
      expect(result.code).toBe(0);
      expect(proxy.connections()).toBeGreaterThan(before); // it did reconnect
      expect(await rowsTitled(title)).toBe("1");
    } finally {
      await proxy.close();
    }
  });

  it("sends the preview from a file and the payload from stdin", async () => {
    const previewFile = join(cwd, "plan.txt");
    writeFileSync(previewFile, "kubectl apply -f prod.yaml");
    const args = ["--gate", "hard", "--preview-file", previewFile, "--action", "deploy:prod", "--payload-file", "-"];
    const run = signoff(["ask", "--title", "deploy with payload", ...args], {
      stdin: JSON.stringify({ image: "api:42", replicas: 3 }),
    });
    const code = await run.askedCode();
    const record = await recordOf(code);
    expect(record).toMatchObject({ preview: "kubectl apply -f prod.yaml", action: "deploy:prod" });
    expect(record.payloadSha256).toMatch(/^[0-9a-f]{64}$/);
    run.child.kill("SIGINT");
    expect((await run.done).code).toBe(4);
  });
});

describe("signoff run", () => {
  it("runs the command once approved and exits with its exit code", async () => {
    const run = signoff(["run", "--title", "exit seven", "--", "sh", "-c", "echo ran; exit 7"]);
    await operatorDecides(s, await run.askedCode(), { verdict: "approve" });
    const result = await run.done;
    expect(result.code).toBe(7);
    expect(result.stdout).toBe("ran\n");
  });

  it("maps a death by signal to 128 + n", async () => {
    const run = signoff(["run", "--title", "killed", "--gate", "auto", "--", "sh", "-c", "kill -TERM $$"]);
    expect((await run.done).code).toBe(143);
  });

  it("never runs the command when rejected, changes are requested or time runs out", async () => {
    const marker = join(cwd, `ran-${randomUUID()}`);
    const touch = ["--", "sh", "-c", `touch ${marker}`];
    const decidedAs = async (title: string, answer: Parameters<typeof operatorDecides>[2]) => {
      const run = signoff(["run", "--title", title, ...touch]);
      await operatorDecides(s, await run.askedCode(), answer);
      return (await run.done).code;
    };
    const codes = await Promise.all([
      decidedAs("touch rejected", { verdict: "reject", note: "no" }),
      decidedAs("touch changes", { verdict: "changes", note: "later" }),
      signoff(["run", "--title", "touch timeout", "--timeout", "1", ...touch]).done.then((r) => r.code),
      signoff(["run", "--title", "touch prohibited", "--gate", "prohibited", ...touch]).done.then((r) => r.code),
    ]);
    expect(codes).toEqual([1, 3, 4, 1]);
    expect(existsSync(marker)).toBe(false);

    // The same command does run when approved: the marker check above can see a run.
    expect(await decidedAs("touch approved", { verdict: "approve" })).toBe(0);
    await eventually(() => existsSync(marker), "the marker file");
  });

  it("refuses a run without a command, exit 2, and says 127 for a command that cannot start", async () => {
    const none = await signoff(["run", "--title", "x"]).done;
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/the command goes after --/);
    const missing = await signoff(["run", "--title", "x", "--gate", "auto", "--", "no-such-command-xyz"]).done;
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cannot run 'no-such-command-xyz'/);
  });
});
