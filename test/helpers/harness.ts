/**
 * Starts a real signoff against the machine's PostgreSQL (database `test`, a fresh schema per
 * instance) and Redis (a fresh queue prefix), with the web chat as its channel.
 */
import { createHash, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import pg from "pg";
import { FileConfigSchema, EnvSchema, type Config } from "../../src/config.js";
import type { Channel } from "../../src/domain/channel.js";
import { createLogger } from "../../src/logger.js";
import { startSignoff, type Signoff } from "../../src/main.js";
import { deleteKeysWithPrefix } from "../../src/jobs/redis/connections.js";

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const SIGNING_SECRET = "test-signing-secret-0123456789";
export const SOURCE_TOKEN = "forge-token-for-tests";

/** Operators most tests use: an owner, an approver, a second approver, a viewer, an ops lead. */
export const TEST_OPERATORS = [
  { name: "adam", roles: ["owner", "approver"], timezone: "Pacific/Auckland", telegram: "1001" },
  { name: "eve", roles: ["approver"], timezone: "Europe/Berlin", telegram: "1002" },
  { name: "bob", roles: ["approver", "ops-lead"], timezone: "UTC" },
  { name: "vic", roles: ["viewer"], timezone: "UTC" },
];

export interface TestInstanceOptions {
  /** Return as soon as it started, with the start-up reconcile still running (default: wait for it). */
  reconcileInBackground?: boolean;
  schema?: string;
  prefix?: string;
  file?: Record<string, unknown>;
  channels?: Channel[];
  webchat?: boolean;
  timerConcurrency?: number;
}

/** Log lines of test instances, kept out of the test output (read them when debugging a failure). */
export const capturedLogs: string[] = [];

/** A unique, valid schema / prefix name. */
export const uniqueName = (stem: string) => `${stem}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;

/** Build a test config (a source `forge` with {@link SOURCE_TOKEN}). */
export function testConfig(options: TestInstanceOptions & { schema: string; prefix: string }): Config {
  const file = FileConfigSchema.parse({
    timezone: "UTC",
    operators: TEST_OPERATORS,
    sources: [{ name: "forge", tokenSha256: createHash("sha256").update(SOURCE_TOKEN).digest("hex") }],
    approvals: { callbackBackoffMs: 50, callbackAttempts: 4, callbackTimeoutMs: 2000 },
    ...(options.file ?? {}),
  });
  const env = EnvSchema.parse({
    DATABASE_URL,
    REDIS_URL,
    DATABASE_SCHEMA: options.schema,
    SIGNOFF_QUEUE_PREFIX: options.prefix,
    SIGNOFF_SIGNING_SECRET: SIGNING_SECRET,
    HTTP_PORT: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
  });
  return { env, file, configPath: null, webchatEnabled: options.webchat ?? true };
}

/** Start a signoff for a test. `schema`/`prefix` may be reused to simulate a restart. */
export async function startTestSignoff(
  options: TestInstanceOptions = {},
): Promise<Signoff & { schema: string; prefix: string }> {
  const schema = options.schema ?? uniqueName("t");
  const prefix = options.prefix ?? uniqueName("q");
  const sink = new Writable({
    write(chunk, _enc, cb) {
      capturedLogs.push(String(chunk));
      cb();
    },
  });
  const config = testConfig({ ...options, schema, prefix });
  const signoff = await startSignoff({
    config,
    logger: createLogger(config.env.LOG_LEVEL, sink),
    ...(options.channels ? { channels: options.channels } : {}),
    ...(options.timerConcurrency ? { timerConcurrency: options.timerConcurrency } : {}),
  });
  // The start-up reconcile runs in the background; tests start from a reconciled instance.
  if (!options.reconcileInBackground) await signoff.reconcileReport;
  return Object.assign(signoff, { schema, prefix });
}

/** Drop a test schema and its Redis keys. */
export async function cleanupTestInstance(schema: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  const redis = new Redis(REDIS_URL);
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
}

/** Poll until `fn` returns a truthy value or time runs out (then throws naming `what`). */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  what: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Call the HTTP API as the test source (or with another token). */
export async function api(
  signoff: { url: string },
  method: string,
  path: string,
  body?: unknown,
  token: string | null = SOURCE_TOKEN,
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the route returned
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${signoff.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, body: parsed };
}
