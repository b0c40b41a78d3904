/**
 * `signoff mcp`: signoff's approval tools as an MCP server on stdio, for an agent host (Claude
 * Code, an IDE) to start. stdout carries only the protocol; anything for a person goes to stderr.
 */
import { readFileSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createSignoffMcpServer } from "../tools/mcp-server.js";
import { type CliCommand, parseFlags } from "./command.js";
import { requesterClient } from "./requester-client.js";

const USAGE = `usage: signoff mcp

  Serve the MCP tools request_approval, wait_for_decision and get_status on stdin/stdout, for an
  agent host to start (e.g. \`claude mcp add signoff -- npx signoff mcp\`). Asks the signoff at
  SIGNOFF_URL as the source whose token is SIGNOFF_TOKEN (environment or .env). No tool call
  takes longer than 50 s: the model waits for a decision by calling wait_for_decision again.`;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** The `mcp` entry of the command table. */
export const mcpCommand: CliCommand = {
  summary: "  mcp                  serve the approval tools to an AI agent over MCP (stdio)",
  usage: USAGE,
  async run(args, io) {
    parseFlags(args, {}, USAGE);
    const client = requesterClient(io.env, { retryBudgetMs: 10_000 });
    const server = createSignoffMcpServer(client, { version: packageVersion(), log: io.err });
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
      // The host closing our stdin is the end of the session.
      process.stdin.once("end", () => void server.close());
    });
    await server.connect(new StdioServerTransport());
    await closed;
    return 0;
  },
};
