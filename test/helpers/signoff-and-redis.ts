/**
 * One in-process signoff for a test file, with a Redis connection of its own to look at (or
 * damage) the signoff's keys; both are started before the file's tests and removed after them.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { REDIS_URL, cleanupTestInstance, startTestSignoff } from "./harness.js";

/** What {@link useSignoffAndRedis} gives the file's tests once they run. */
export interface SignoffAndRedis {
  s: Awaited<ReturnType<typeof startTestSignoff>>;
  redis: Redis;
}

/** Register the file's signoff and Redis connection; read `.s` and `.redis` inside tests. */
export function useSignoffAndRedis(): SignoffAndRedis {
  const env = {} as SignoffAndRedis;
  beforeAll(async () => {
    env.s = await startTestSignoff();
    env.redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await env.redis?.quit();
    if (!env.s) return;
    await env.s.close();
    await cleanupTestInstance(env.s.schema, env.s.prefix);
  });
  return env;
}
