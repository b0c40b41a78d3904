/**
 * The infrastructure every other part stands on: the HTTP port (bound first), the PostgreSQL
 * pool and the Redis connections, each checked before anything else starts, then migrations.
 */
import type { Redis } from "ioredis";
import { type BoundHttpServer, listenEarly } from "../api/early-listen.js";
import type { Config } from "../config.js";
import { createRedis, waitForRedis } from "../jobs/redis/connections.js";
import { createOnceLogger, type OnceLogger } from "../lib/log-once.js";
import type { Logger } from "../logger.js";
import { createDatabase, type Database, waitForDatabase } from "../store/db.js";
import { migrate } from "../store/migrate.js";

/**
 * The database name signoff creates on first start when it is missing. Only this one: any other
 * name in `DATABASE_URL` must exist already, so a typo stops the start instead of starting empty.
 */
const OWN_DATABASE_NAME = "signoff";

/** How long start-up waits for PostgreSQL and Redis before it gives up naming the variable. */
const DEPENDENCY_WAIT_MS = 8_000;

/** The connections and the bound port. */
export interface Infrastructure {
  bound: BoundHttpServer;
  db: Database;
  /** General connection (health, leases); workers duplicate it. Waits out reconnects. */
  redis: Redis;
  /** Queue producers and pub/sub publishing: fails fast while Redis is down. */
  producer: Redis;
  subscriber: Redis;
  /** Repeated failures (an outage) logged once per kind and minute. */
  outageLog: OnceLogger;
  /** Close the connections (the port is closed by the HTTP part). */
  close(): Promise<void>;
}

/** Bind the port, connect, check both dependencies and migrate; fails naming the variable to fix. */
export async function startInfrastructure(config: Readonly<Config>, logger: Logger): Promise<Infrastructure> {
  const { env } = config;
  const outageLog = createOnceLogger(logger);
  // The port first: a second instance on a busy port fails before it migrates or starts workers.
  const bound = await listenEarly(env.HTTP_PORT, env.HTTP_HOST);
  const db = createDatabase({ url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA, max: 20 });
  const redis = createRedis(env.REDIS_URL);
  // Producers fail fast while Redis is down, so HTTP requests answer; PostgreSQL has the rest.
  const producer = createRedis(env.REDIS_URL, { autoPipelining: true, failFast: true });
  const subscriber = createRedis(env.REDIS_URL);
  const connections = { redis, producer, subscriber };
  for (const [name, connection] of Object.entries(connections)) {
    connection.on("error", (err) =>
      outageLog.warn(`redis:${name}`, { connection: name, err: err.message }, "Redis connection error"),
    );
  }
  const disconnect = () => {
    for (const connection of Object.values(connections)) connection.disconnect();
  };
  try {
    await Promise.all([
      waitForDatabase(db, env.DATABASE_URL, DEPENDENCY_WAIT_MS, { createIfMissing: OWN_DATABASE_NAME }).then(
        (outcome) => {
          if (outcome === "created") logger.info({ database: OWN_DATABASE_NAME }, "created signoff's database");
        },
      ),
      waitForRedis(producer, env.REDIS_URL, DEPENDENCY_WAIT_MS),
      waitForRedis(redis, env.REDIS_URL, DEPENDENCY_WAIT_MS),
    ]);
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied }, "migrations applied");
  } catch (error) {
    disconnect();
    await Promise.allSettled([db.close(), bound.close()]);
    throw error;
  }
  return {
    bound,
    db,
    redis,
    producer,
    subscriber,
    outageLog,
    async close() {
      disconnect();
      await db.close();
    },
  };
}
