/**
 * `npm start`: load the config, start signoff, and shut down cleanly on SIGTERM / SIGINT.
 * The wiring lives in `src/app/`; this file is the entry point only.
 */
import { pathToFileURL } from "node:url";
import { ListenError } from "./api/early-listen.js";
import { limitHeapGrowth } from "./app/memory.js";
import { type StartOptions, type Signoff, startSignoff } from "./app/start.js";
import { type Config, ConfigError, environmentWithDotEnv, loadConfig, loadOrCreateDemoCredentials } from "./config.js";
import { DEFAULT_APPROVER_ROLES } from "./domain/approval.js";
import { StartupError } from "./domain/errors.js";
import { createLogger } from "./logger.js";

export { type OpsParts, type Signoff, type StartOptions, startSignoff } from "./app/start.js";

/** After SIGTERM, exit with 1 if closing has not finished by then (it is bounded at 8 s). */
const FORCED_EXIT_MS = 9_500;

/** Load config, start, and wire the signals. */
export async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(environmentWithDotEnv(), { demoCredentials: () => loadOrCreateDemoCredentials() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`signoff: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  limitHeapGrowth(config.env.SIGNOFF_HEAP_GROWTH_PERCENT);
  const logger = createLogger(config.env.LOG_LEVEL, { format: config.env.LOG_FORMAT });
  const options: StartOptions = { config, logger, channels: [] };
  let signoff: Signoff;
  try {
    signoff = await startSignoff(options);
  } catch (error) {
    if (error instanceof StartupError || error instanceof ListenError) {
      // One plain line naming what to fix (log collectors read stderr too), never a stack.
      process.stderr.write(`signoff: cannot start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.stdout.write(welcome(signoff));
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown did not finish in time; exiting");
      process.exit(1);
    }, FORCED_EXIT_MS);
    force.unref();
    signoff.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

/** What a newcomer needs after `npm start`: where to look and, in demo mode, a first request. */
export function welcome(signoff: Pick<Signoff, "url" | "config" | "webchat">): string {
  const lines = [`signoff is running at ${signoff.url}/`];
  const canApprove = signoff.config.file.operators.some((o) => o.roles.some((r) => DEFAULT_APPROVER_ROLES.includes(r)));
  if (!canApprove)
    lines.push(
      `  warning: no operator holds ${DEFAULT_APPROVER_ROLES.join(" or ")}, so medium and hard requests that name no approvers.roles are refused (400); add an operator to ${signoff.config.configPath ?? "signoff.yaml"}`,
    );
  if (signoff.webchat) lines.push(`  web chat: ${signoff.url}/chat`);
  const demo = signoff.config.demo;
  if (demo) {
    const body = JSON.stringify({ title: "Deploy v1.2 to staging", gate: "medium", reason: "tried from the README" });
    lines.push(
      `  demo mode: no config file, so operator "you" and source "demo" (token kept in ${demo.file}).`,
      "  Create an approval, then answer it in the web chat:",
      `  curl -sS -X POST ${signoff.url}/api/approvals -H 'Authorization: Bearer ${demo.token}' -H 'Content-Type: application/json' -d '${body}'`,
    );
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    process.stderr.write(`signoff: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
