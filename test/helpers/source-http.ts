/**
 * Calling the HTTP server in-process (`inject`, no network) the way a source does: its bearer
 * token, the `sources` config that accepts it, and every route a source reports to ops through.
 */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";

/** The one source's token in these tests. */
export const TOKEN = "unit-test-token";
/** The `sources` config: source `forge` with {@link TOKEN}. */
export const sources = [{ name: "forge", tokenSha256: createHash("sha256").update(TOKEN).digest("hex") }];
/** The header a source sends. */
export const auth = { authorization: `Bearer ${TOKEN}` };

/** The routes sources report tasks, spend, heartbeats and notices through, and pull commands from. */
export const REPORT_ROUTES = [
  ["POST", "/api/tasks"],
  ["POST", "/api/spend"],
  ["POST", "/api/heartbeats"],
  ["POST", "/api/notify"],
  ["GET", "/api/commands"],
  ["POST", "/api/commands/ack"],
] as const;

/** POST `payload` as JSON to `url` with the source's token. */
export function postAsSource(app: Pick<FastifyInstance, "inject">, url: string, payload: Record<string, unknown>) {
  return app.inject({ method: "POST", url, headers: auth, payload });
}
