/**
 * Redis connections for BullMQ and pub/sub, and how signoff notices Redis trouble: at start
 * (fail fast naming `REDIS_URL`), while down (producers fail fast instead of queueing), and when
 * its keys were lost (a sentinel key that only a flush or a new server removes).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { StartupError } from "../../domain/errors.js";

/** Options of {@link createRedis}. */
export interface RedisConnectionOptions {
  /**
   * Producers only: commands issued in the same tick go out in one write (fewer syscalls under
   * load). Never on worker connections, whose blocking commands must not queue. @defaultValue false
   */
  autoPipelining?: boolean;
  /**
   * Producers only: fail a command at once while Redis is unreachable, and after `commandTimeoutMs`
   * when it does not answer, instead of waiting for the reconnect. HTTP requests then answer
   * within seconds; what they could not schedule is re-created from PostgreSQL when Redis is
   * back. Workers keep waiting (their blocking commands must never be abandoned). @defaultValue false
   */
  failFast?: boolean;
  /** @defaultValue 2000 */
  commandTimeoutMs?: number;
}

/** A Redis connection suitable for BullMQ queues and workers (see {@link RedisConnectionOptions}). */
export function createRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    enableReadyCheck: true,
    lazyConnect: false,
    enableAutoPipelining: options.autoPipelining ?? false,
    ...(options.failFast ? { enableOfflineQueue: false, commandTimeout: options.commandTimeoutMs ?? 2_000 } : {}),
    // Reconnect quickly at first, then every 2 s: never give up (the process recovers by itself).
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  });
}

/** What ioredis and the socket say when Redis cannot be reached (or is still loading its data). */
const UNREACHABLE = new RegExp(
  [
    "stream isn't writeable",
    "connection is closed",
    "command timed out",
    "max retries per request",
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "EPIPE",
    "EHOSTUNREACH",
    "enableOfflineQueue",
    "LOADING",
  ].join("|"),
  "i",
);

/** Whether an error means Redis is down or unreachable (not a bad command). */
export function isRedisUnavailable(error: unknown): boolean {
  const e = error as { message?: string; code?: string; name?: string } | null;
  if (!e || typeof e !== "object") return false;
  if (e.name === "MaxRetriesPerRequestError") return true;
  return UNREACHABLE.test(`${e.code ?? ""} ${e.message ?? ""}`);
}

/** Whether an error means the Redis credentials are wrong (retrying will not help). */
function isRedisMisconfigured(error: unknown): boolean {
  return /WRONGPASS|NOAUTH|invalid password|ENOTFOUND/i.test((error as Error | null)?.message ?? "");
}

/** `host:port` of a Redis URL, without user or password. */
function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "6379"}`;
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * Wait until `redis` is ready, at most `deadlineMs`; then fail with a message naming `REDIS_URL`
 * (host and port only). Wrong credentials fail at once.
 */
export async function waitForRedis(redis: Redis, url: string, deadlineMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    let last: Error | null = null;
    const fail = (why: string) => {
      cleanup();
      reject(new StartupError(`REDIS_URL: cannot use Redis at ${describeRedisUrl(url)}: ${why}`));
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      last = error;
      if (isRedisMisconfigured(error))
        fail(/ENOTFOUND/.test(error.message) ? "unknown host" : "authentication failed (check the password)");
    };
    const timer = setTimeout(() => fail(last ? reasonOf(last) : `no answer within ${deadlineMs / 1000} s`), deadlineMs);
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("error", onError);
    };
    redis.on("ready", onReady);
    redis.on("error", onError);
  });
}

function reasonOf(error: Error): string {
  if (/ECONNREFUSED/.test(error.message)) return "connection refused (is it running, on that port?)";
  return error.message.replace(/redis:\/\/[^\s]+/g, "(url)");
}

/** Options of {@link watchRedis}. */
export interface RedisWatchOptions {
  /** A producer connection (fails fast while down). */
  redis: Redis;
  prefix: string;
  /** How often the sentinel is checked. @defaultValue 5000 */
  everyMs?: number;
  /** Redis lost its keys (flushed, or replaced by an empty server), or came back after an outage. */
  onRecovered(reason: "keys_lost" | "reconnected"): Promise<void>;
  logger: { warn(o: object, m?: string): void; info(o: object, m?: string): void };
}

/** What {@link watchRedis} knows right now, for the health check. */
export interface RedisWatch {
  /** True from a detected loss until its repair finished. */
  repairing(): boolean;
  stop(): void;
}

/**
 * Keep a sentinel key under the prefix; when it is gone, Redis lost its keys (a FLUSHALL, or a
 * failover to an empty replica), so timers and queued sends must be re-created from PostgreSQL
 * now rather than at the next periodic reconcile. A reconnect after an outage triggers the same
 * repair, since anything scheduled while Redis was down was never written.
 */
export function watchRedis(options: RedisWatchOptions): RedisWatch {
  const key = `${options.prefix}:sentinel`;
  const me = randomUUID();
  let repairing = false;
  let wasDown = false;
  let running: Promise<void> | null = null;
  let stopped = false;

  const repair = (reason: "keys_lost" | "reconnected") => {
    if (running || stopped) return;
    repairing = true;
    options.logger.warn(
      { reason },
      reason === "keys_lost"
        ? "Redis lost its keys: re-creating timers and sends from PostgreSQL"
        : "Redis is back: re-creating what could not be scheduled",
    );
    running = options
      .onRecovered(reason)
      .then(() => options.logger.info({ reason }, "Redis repair finished"))
      .catch((error) => {
        options.logger.warn({ reason, err: (error as Error).message }, "Redis repair failed; trying again shortly");
        void options.redis.del(key).catch(() => undefined); // the next check repairs again
      })
      .finally(() => {
        repairing = false;
        running = null;
      });
  };

  const check = async () => {
    try {
      // SET NX succeeds only when the sentinel is missing: first start, or the keys are gone.
      const created = await options.redis.set(key, me, "NX");
      if (created === "OK" && checked) repair("keys_lost");
      checked = true;
      if (wasDown) {
        wasDown = false;
        if (created !== "OK") repair("reconnected");
      }
    } catch {
      if (checked) wasDown = true;
    }
  };
  let checked = false;
  void check();
  const timer = setInterval(() => void check(), options.everyMs ?? 5_000);
  timer.unref();
  const onReady = () => void check();
  const onClose = () => {
    if (checked) wasDown = true;
  };
  options.redis.on("ready", onReady);
  options.redis.on("close", onClose);
  return {
    repairing: () => repairing,
    stop() {
      stopped = true;
      clearInterval(timer);
      options.redis.off("ready", onReady);
      options.redis.off("close", onClose);
    },
  };
}

/** Delete every key of one queue prefix (tests and the "Redis was lost" drill). */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== "0");
  return deleted;
}
