/**
 * The MCP tools' time limit, with a client double at the requester-client boundary: however long
 * the model asks to wait, signoff is asked to hold a long poll only as long as fits in the 50 s a
 * tool call may take (less what the call has already spent), and a wait over 50 s is refused.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { describe, expect, it } from "vitest";
import type { ApprovalRecord, SignoffClient } from "../../../src/client/index.js";
import { createSignoffMcpServer } from "../../../src/tools/mcp-server.js";

const pending = {
  id: "a1",
  code: "K7QF",
  title: "deploy",
  status: "pending",
  decidedBy: null,
  note: null,
  effectiveGate: "medium",
  approvers: { roles: ["approver"], quorum: 1 },
  deadlineAt: null,
} as unknown as ApprovalRecord;

async function connect(clock: { now: number }) {
  const holds: number[] = [];
  const signoff = {
    createApproval: async () => {
      clock.now += 5000; // the create took 5 s
      return pending;
    },
    getApproval: async (_id: string, o?: { waitSeconds?: number }) => {
      holds.push(o?.waitSeconds ?? 0);
      return pending;
    },
  } as unknown as SignoffClient;
  const server = createSignoffMcpServer(signoff, { version: "test", log: () => undefined, now: () => clock.now });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "t", version: "1" });
  await client.connect(b);
  return { client, holds };
}

describe("MCP tool time limit", () => {
  it("holds a long poll at most 48 s of a call's 50, less what the call has already spent", async () => {
    const clock = { now: 1_000_000 };
    const { client, holds } = await connect(clock);
    await client.callTool({ name: "wait_for_decision", arguments: { id: "a1", waitSeconds: 50 } });
    await client.callTool({ name: "wait_for_decision", arguments: { id: "a1" } });
    await client.callTool({ name: "wait_for_decision", arguments: { id: "a1", waitSeconds: 3 } });
    await client.callTool({ name: "request_approval", arguments: { title: "deploy", waitSeconds: 50 } });
    expect(holds).toEqual([48, 48, 3, 43]);
  });

  it("refuses a wait longer than 50 s", async () => {
    const { client, holds } = await connect({ now: 0 });
    const result = await client.callTool({ name: "wait_for_decision", arguments: { id: "a1", waitSeconds: 51 } });
    expect(result.isError).toBe(true);
    expect(holds).toEqual([]);
  });
});
