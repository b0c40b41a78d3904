/**
 * Runs a piece of exclusive work (long polling a bot token, holding a WhatsApp socket) only while
 * this process holds its {@link Lease}: waits for the lease, starts the work, stops it as soon as
 * the lease is lost, and tries again. Several processes can run the same setup; exactly one of
 * them works at a time, the others stand by, healthy, ready to take over.
 */
import type { Lease } from "./lease.js";

/** Why the work is being stopped. */
export type LeasedStopReason = "lost" | "shutdown";

/**
 * How work that ended by itself goes on:
 * - `retry`: release the lease (another process may take it) and try again after the retry pause;
 * - `give-up`: release the lease and stop trying (e.g. a revoked bot token: no process can use it);
 * - `hold`: keep the lease but stop trying (e.g. a logged-out WhatsApp session: no other process
 *   should use it either, until an operator steps in and restarts).
 */
export type LeasedEnd = "retry" | "give-up" | "hold";

/** Time and timers, injectable so tests run the retries on a fake clock. */
export interface LeaseTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The logger calls used here (pino fits). */
export interface LeaseLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link runWhileLeased}. */
export interface RunWhileLeasedOptions {
  lease: Lease;
  /** Starts the work, each time the lease is taken. A throw releases the lease and retries later. */
  start(): Promise<void>;
  /**
   * Stops the work: the lease was lost (another process may be working already), or shutdown.
   * On shutdown it also runs while the work is not running (must then do nothing harmful), and
   * before the lease is released, so whatever it saves is there for the next holder. Never throws.
   */
  stop(reason: LeasedStopReason): Promise<void>;
  logger: LeaseLogger;
  /** Starts the log messages, e.g. "telegram polling" → "telegram polling lease unavailable; will retry". */
  name: string;
  /** How often a process without the lease tries to take it. @defaultValue 3000 */
  retryEveryMs?: number;
  /** Turns an error from `start` or Redis into log text (scrub secrets here). @defaultValue the error's message */
  describeError?: (error: unknown) => string;
  /** @defaultValue real timers that do not keep the process alive */
  timers?: LeaseTimers;
}

/** Work guarded by a lease; see {@link runWhileLeased}. */
export interface LeasedWork {
  /** Tries once to take the lease and start (awaited); without the lease, stands by and retries. */
  start(): Promise<void>;
  /** Stops trying and stops the work, then releases the lease at once so another process can start. */
  stop(): Promise<void>;
  /** The work ended by itself (crashed, logged out); see {@link LeasedEnd}. */
  ended(how: LeasedEnd): Promise<void>;
  /** True from a successful start until the work is stopped, lost or ended. */
  readonly running: boolean;
}

const realTimers: LeaseTimers = {
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs `start`/`stop` behind `lease`. The lease renews itself (see `createRedisLease`); the work
 * is stopped when it reports a loss, which happens before the key can expire in Redis, so the
 * next holder never starts while this one still works.
 *
 * @example
 * const polling = runWhileLeased({ lease, start: startPolling, stop: stopPolling, logger, name: "telegram polling" });
 * await polling.start();
 * // at shutdown: await polling.stop();
 */
export function runWhileLeased(options: RunWhileLeasedOptions): LeasedWork {
  const { lease, logger, name } = options;
  const retryEveryMs = options.retryEveryMs ?? 3_000;
  const timers = options.timers ?? realTimers;
  const describe = options.describeError ?? ((error: unknown) => (error as Error)?.message ?? String(error));
  let active = false; // between start() and stop()
  let running = false;
  let finished = false; // ended with give-up or hold: no more attempts until the next start()
  let attempting = false;
  let generation = 0; // bumps on stop, loss and end, so an attempt in flight knows it is stale
  let retryTimer: unknown;
  let unavailable = false; // warned once per outage, not on every retry

  const releaseQuietly = () => lease.release().catch(() => undefined);

  function scheduleRetry(): void {
    if (!active || finished || retryTimer !== undefined) return;
    retryTimer = timers.setTimeout(() => {
      retryTimer = undefined;
      void attempt();
    }, retryEveryMs);
  }

  function clearRetry(): void {
    if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
    retryTimer = undefined;
  }

  /** One try to take the lease and start; schedules the next try when it does not work out. */
  async function attempt(): Promise<void> {
    if (!active || running || finished || attempting) return;
    attempting = true;
    try {
      await takeAndStart(generation);
    } finally {
      attempting = false;
    }
  }

  async function takeAndStart(gen: number): Promise<void> {
    let acquired = false;
    try {
      acquired = await lease.acquire();
      if (unavailable) logger.info({ lease: lease.key }, `${name} lease reachable again`);
      unavailable = false;
    } catch (error) {
      if (!unavailable)
        logger.warn({ error: describe(error), lease: lease.key }, `${name} lease unavailable; will retry`);
      unavailable = true;
    }
    if (gen !== generation) {
      // stop() ran meanwhile (and maybe start() again, whose own attempt saw this one in flight).
      if (acquired) await releaseQuietly();
      return scheduleRetry();
    }
    if (!acquired) return scheduleRetry();
    try {
      await options.start();
    } catch (error) {
      logger.warn({ error: describe(error) }, `${name} could not start; releasing the lease`);
      await releaseQuietly();
      return scheduleRetry();
    }
    if (gen !== generation) {
      // stop() ran while the work was starting: the work may have begun after stop() looked.
      await options.stop("shutdown");
      return scheduleRetry();
    }
    if (!lease.held) {
      await options.stop("lost");
      return scheduleRetry();
    }
    running = true;
  }

  lease.onLost(() => {
    if (!active || !running) return; // an attempt in flight sees the loss when its start returns
    running = false;
    generation++;
    void options
      .stop("lost")
      .catch(() => undefined)
      .then(scheduleRetry);
  });

  return {
    get running() {
      return running;
    },

    async start() {
      active = true;
      finished = false;
      await attempt();
    },

    async stop() {
      active = false;
      running = false;
      generation++;
      clearRetry();
      await options.stop("shutdown");
      await lease
        .release()
        .catch((error: unknown) => logger.warn({ error: describe(error) }, `${name} lease release failed`));
    },

    async ended(how) {
      if (!active || !running) return;
      running = false;
      generation++;
      if (how === "hold") {
        finished = true;
        return;
      }
      finished = how === "give-up";
      await releaseQuietly();
      scheduleRetry();
    },
  };
}
