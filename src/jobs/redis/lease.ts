/**
 * A lease in Redis that lets one process at a time do something exclusive (long polling one bot
 * token, holding one WhatsApp socket). The holder renews it; when the holder dies the key
 * expires and another process takes over. A holder that cannot renew in time gives the lease up
 * by itself before the key can expire, so two holders never overlap. `run-while-leased.ts` runs
 * a piece of work only while its lease is held.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { defineScripts } from "./scripts.js";

/** An exclusive, expiring claim; see {@link createRedisLease}. */
export interface Lease {
  /** The Redis key (safe to log: it never contains a secret). */
  readonly key: string;
  /** True from a successful {@link acquire} until {@link release} or loss. */
  readonly held: boolean;
  /** Tries once to take the lease (true at once while already held); on success, renews it in the background. */
  acquire(): Promise<boolean>;
  /** Stops renewing and deletes the key if it is still ours. */
  release(): Promise<void>;
  /** `listener` runs each time a held lease is lost: taken over, expired, or not renewed in time. */
  onLost(listener: () => void): void;
}

/** Options of {@link createRedisLease}. */
export interface RedisLeaseOptions {
  key: string;
  /** How long the key lives without renewal: the longest a dead holder blocks the others. @defaultValue 15000 */
  ttlMs?: number;
  /** How often the holder renews. @defaultValue 5000 */
  renewEveryMs?: number;
  /** Holder id; random by default. */
  owner?: string;
}

/** The lease's Redis commands (KEYS and ARGV in each .lua header). */
interface LeaseCommands {
  /** lease-acquire.lua: 1 when held. */
  signoffLeaseAcquire(key: string, owner: string, ttlMs: number): Promise<number>;
  /** lease-renew.lua: 1 when still ours. */
  signoffLeaseRenew(key: string, owner: string, ttlMs: number): Promise<number>;
  /** lease-release.lua: 1 when deleted. */
  signoffLeaseRelease(key: string, owner: string): Promise<number>;
}

const script = (file: string) => ({ file: new URL(file, import.meta.url), numberOfKeys: 1 });

/**
 * Creates a lease over one Redis command connection. The holder considers the lease lost
 * `ttlMs` minus a safety margin after the last renewal that was *sent* before it succeeded, so
 * its own deadline always falls before the key's expiry in Redis.
 *
 * @example
 * const lease = createRedisLease(redis, { key: `${prefix}:whatsapp:socket-lease:default` });
 * lease.onLost(() => closeSocket());
 * if (await lease.acquire()) openSocket();
 */
export function createRedisLease(connection: Redis, options: RedisLeaseOptions): Lease {
  const redis = defineScripts<LeaseCommands>(connection, {
    signoffLeaseAcquire: script("./lease-acquire.lua"),
    signoffLeaseRenew: script("./lease-renew.lua"),
    signoffLeaseRelease: script("./lease-release.lua"),
  });
  const { key } = options;
  const ttlMs = options.ttlMs ?? 15_000;
  const renewEveryMs = options.renewEveryMs ?? 5_000;
  if (!(renewEveryMs > 0 && renewEveryMs < ttlMs)) throw new Error("lease: renewEveryMs must be > 0 and < ttlMs");
  const owner = options.owner ?? randomUUID();
  // Room for the holder to notice and stop before Redis lets another process in.
  const marginMs = Math.min(1_000, Math.floor(ttlMs / 5));
  // Never wait for Redis longer than the lease could survive.
  const commandTimeoutMs = Math.max(1, ttlMs - renewEveryMs - marginMs);
  const listeners: Array<() => void> = [];

  let held = false;
  let generation = 0; // bumps on every acquire/release/loss so stale timers and replies are ignored
  let renewTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;

  const clearTimers = () => {
    clearTimeout(renewTimer);
    clearTimeout(deadlineTimer);
    renewTimer = deadlineTimer = undefined;
  };

  const lose = (gen: number) => {
    if (gen !== generation || !held) return;
    held = false;
    generation++;
    clearTimers();
    for (const listener of listeners) listener();
  };

  /** After Redis confirmed a claim sent at `sentAt`: arm the local deadline and the next renewal. */
  const confirm = (gen: number, sentAt: number) => {
    clearTimers();
    deadlineTimer = setTimeout(() => lose(gen), Math.max(0, sentAt + ttlMs - marginMs - Date.now()));
    renewTimer = setTimeout(() => void renew(gen), renewEveryMs);
    deadlineTimer.unref();
    renewTimer.unref();
  };

  const renew = async (gen: number) => {
    const sentAt = Date.now();
    let ok: boolean | undefined;
    try {
      ok = (await withTimeout(redis.signoffLeaseRenew(key, owner, ttlMs), commandTimeoutMs)) === 1;
    } catch {
      ok = undefined; // Redis unreachable: keep trying until the deadline decides
    }
    if (gen !== generation) return;
    if (ok === true) confirm(gen, sentAt);
    else if (ok === false) lose(gen);
    else {
      renewTimer = setTimeout(() => void renew(gen), Math.min(renewEveryMs, 500));
      renewTimer.unref();
    }
  };

  return {
    key,
    get held() {
      return held;
    },

    async acquire() {
      if (held) return true;
      const gen = ++generation;
      const sentAt = Date.now();
      const result = await withTimeout(redis.signoffLeaseAcquire(key, owner, ttlMs), commandTimeoutMs);
      if (gen !== generation || result !== 1) return false;
      held = true;
      confirm(gen, sentAt);
      return true;
    },

    async release() {
      const wasHeld = held;
      held = false;
      generation++;
      clearTimers();
      if (!wasHeld) return;
      await withTimeout(redis.signoffLeaseRelease(key, owner), commandTimeoutMs);
    },

    onLost(listener) {
      listeners.push(listener);
    },
  };
}

/** Rejects when `promise` has not settled after `ms` (the command itself may still run). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
