/**
 * Redis connections for BullMQ and pub/sub. BullMQ workers need `maxRetriesPerRequest: null`
 * so a blocked command is never abandoned mid-wait.
 */
import { Redis } from "ioredis";

/** A Redis connection suitable for BullMQ queues and workers. */
export function createRedis(url: string, options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    // Producers only: commands issued in the same tick go out in one write (fewer syscalls
    // under load). Never on worker connections, whose blocking commands must not queue.
    enableAutoPipelining: options.autoPipelining ?? false,
  });
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
