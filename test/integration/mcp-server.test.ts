/**
 * `signoff mcp` as an agent host meets it: the SDK's own client spawns `node bin/signoff.mjs mcp`
 * over stdio against a real signoff. It lists the three tools, a request shows pending, an
 * operator approves in the web chat and wait_for_decision returns approved; refusals come back as
 * tool errors naming the field, and nothing but the protocol is written to stdout.
 */
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { cleanupTestInstance, SOURCE_TOKEN, startTestSignoff } from "../helpers/harness.js";
import { operatorDecides } from "../helpers/operator-decides.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "signoff.mjs");
let s: Signoff & { schema: string; prefix: string };
let client: Client;
let stderr = "";

beforeAll(async () => {
  s = await startTestSignoff();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp"],
    env: { PATH: process.env.PATH ?? "", SIGNOFF_URL: s.url, SIGNOFF_TOKEN: SOURCE_TOKEN },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: "signoff-test", version: "1.0.0" });
  await client.connect(transport);
});
afterAll(async () => {
  await client?.close();
  await s?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

// biome-ignore lint/suspicious/noExplicitAny: the tool's JSON answer, read field by field
type ToolJson = any;

async function call(
  name: string,
  args: Record<string, unknown>,
): Promise<{ isError: boolean; body: ToolJson; raw: string }> {
  const result = await client.callTool({ name, arguments: args });
  const raw = (result.content as { type: string; text: string }[])[0]!.text;
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    /* an error sentence */
  }
  return { isError: result.isError === true, body, raw };
}

describe("signoff mcp", () => {
  it("lists request_approval, wait_for_decision and get_status, telling the model what each outcome means", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["get_status", "request_approval", "wait_for_decision"]);
    const request = tools.find((t) => t.name === "request_approval")!;
    expect(request.description).toMatch(/"rejected": do not do it/);
    expect(request.description).toMatch(/"changes_requested": .*follow the\s+note/);
    expect(request.inputSchema.required).toEqual(["title"]);
    expect(Object.keys(request.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(["title", "gate", "preview", "action", "payload", "waitSeconds"]),
    );
  });

  it("requests, sees it pending, and returns approved once an operator approves", async () => {
    const created = await call("request_approval", {
      title: "deploy api to prod",
      reason: "release 42",
      agent: "builder",
    });
    expect(created.isError).toBe(false);
    expect(created.body).toMatchObject({ status: "pending", askedOf: "approver or owner (1 needed, gate medium)" });
    expect(created.body.next).toMatch(/call wait_for_decision/);
    const { id, code } = created.body;

    const pending = await call("get_status", {});
    expect(pending.body.pending.map((p: { id: string }) => p.id)).toContain(id);
    const stillPending = await call("wait_for_decision", { id, waitSeconds: 0.5 });
    expect(stillPending.body).toMatchObject({ id, status: "pending" });

    const waiting = call("wait_for_decision", { id, waitSeconds: 20 });
    await operatorDecides(s, code, { verdict: "approve" }, "eve");
    const decided = await waiting;
    expect(decided.body).toMatchObject({ id, status: "approved", decidedBy: "eve", decision: "approved by eve" });
    expect(decided.body.next).toMatch(/go ahead, exactly as requested/);
    expect((await call("get_status", { id })).body.status).toBe("approved");
  });

  it("waits inside request_approval with waitSeconds, and carries the note of a request for changes", async () => {
    const asked = call("request_approval", { title: "migrate the db", waitSeconds: 20 });
    const code = await new Promise<string>((resolve, reject) => {
      const poll = async () => {
        const list = (await call("get_status", {})).body.pending as { title: string; code: string }[];
        const mine = list.find((p) => p.title === "migrate the db");
        if (mine) resolve(mine.code);
        else setTimeout(() => poll().catch(reject), 50);
      };
      poll().catch(reject);
    });
    await operatorDecides(s, code, { verdict: "changes", note: "use staging first" });
    const decided = await asked;
    expect(decided.body).toMatchObject({ status: "changes_requested", note: "use staging first" });
    expect(decided.body.next).toMatch(/use staging first.*request_approval again/);
  });

  it("answers a refused request as a tool error naming the field, and a bad waitSeconds as invalid", async () => {
    const hard = await call("request_approval", { title: "wipe staging", gate: "hard" });
    expect(hard.isError).toBe(true);
    expect(hard.raw).toMatch(/preview: required for the hard gate/);
    const tooLong = await call("wait_for_decision", { id: "x", waitSeconds: 120 });
    expect(tooLong.isError).toBe(true);
    const unknown = await call("get_status", { id: "00000000-0000-4000-8000-000000000000" });
    expect(unknown.isError).toBe(true);
    expect(unknown.raw).toMatch(/404/);
  });

  it("logs nothing on stderr while all goes well", () => {
    expect(stderr).toBe("");
  });
});
