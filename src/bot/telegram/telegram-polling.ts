/**
 * Long polling for the Telegram channel: the `@grammyjs/runner` loop, optionally behind a
 * {@link Lease} so only one process polls a token (Telegram answers 409 to a second poller).
 * A process without the lease stands by and retries; it takes over when the holder stops or dies.
 */
import { run, type RunnerHandle } from "@grammyjs/runner";
import { GrammyError, type Bot } from "grammy";
import { scrubToken } from "./telegram-errors.js";
import { ALLOWED_UPDATES } from "./telegram-inbound.js";
import type { Lease } from "../../jobs/redis/lease.js";
import { type LeasedWork, runWhileLeased } from "../../jobs/redis/run-while-leased.js";
import type { TelegramLogger } from "./telegram-logger.js";

/** Dependencies of {@link createPoller}. */
export interface PollerDeps {
  bot: Bot;
  token: string;
  logger: TelegramLogger;
  pollingTimeoutSeconds: number;
  /** Removes any webhook (getUpdates answers 409 while one is set); throws a ChannelError. */
  deleteWebhook(): Promise<void>;
  lease?: Lease | undefined;
  /** How often a standby process tries to take the lease. */
  leaseRetryMs: number;
}

/** What health shows about polling. */
export interface PollerStatus {
  ok: boolean;
  running: boolean;
  /** Only when polling behind a lease. */
  leaseHeld?: boolean;
  error?: string;
}

/** Starts and stops polling; see {@link createPoller}. */
export interface Poller {
  /** Without a lease: polls now (fails if it cannot). With one: polls if it gets it, else stands by. */
  start(): Promise<void>;
  /** Stops polling and standing by, and releases the lease. Handlers already running go on. */
  stop(): Promise<void>;
  status(): PollerStatus;
}

/**
 * Creates the poller for a bot whose middleware is already installed.
 *
 * @example
 * const poller = createPoller({ bot, token, logger, pollingTimeoutSeconds: 30, deleteWebhook, lease, leaseRetryMs: 3000 });
 * await poller.start();
 */
export function createPoller(deps: PollerDeps): Poller {
  const { bot, token, logger, lease } = deps;
  let active = false; // between start and stop
  let runner: RunnerHandle | undefined;
  let fatalError: string | undefined;
  let permanentFailure = false;

  async function startRunner(): Promise<void> {
    await deps.deleteWebhook();
    // The lease may have been lost, or stop called, while deleteWebhook was on its way.
    if (!active || (lease && !lease.held)) return;
    const handle = run(bot, {
      runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES], timeout: deps.pollingTimeoutSeconds }, silent: true },
    });
    runner = handle;
    fatalError = undefined;
    // The runner gives up on 401 (token revoked) and 409 (another poller, or a webhook).
    handle.task()?.catch((err: unknown) => {
      fatalError = scrubToken(String(err), token);
      logger.error({ error: fatalError }, "telegram polling crashed");
      if (!leased || runner !== handle) return;
      runner = undefined;
      // Let another process (or this one, later) try; a revoked token will not come back.
      permanentFailure = err instanceof GrammyError && err.error_code === 401;
      void leased.ended(permanentFailure ? "give-up" : "retry");
    });
    logger.info(
      { bot: bot.botInfo.username, pollingTimeout: deps.pollingTimeoutSeconds, lease: lease?.key },
      "telegram polling started",
    );
  }

  async function stopRunner(): Promise<void> {
    const handle = runner;
    runner = undefined;
    await handle?.stop()?.catch(() => undefined); // a crash was already logged
  }

  const leased: LeasedWork | undefined = lease
    ? runWhileLeased({
        lease,
        name: "telegram polling",
        logger,
        retryEveryMs: deps.leaseRetryMs,
        describeError: (err) => scrubToken(String(err), token),
        start: startRunner,
        async stop(reason) {
          if (reason === "lost") logger.warn({ lease: lease.key }, "telegram polling lease lost; stopping polling");
          await stopRunner();
        },
      })
    : undefined;

  return {
    async start() {
      active = true;
      permanentFailure = false;
      if (!leased || !lease) return startRunner();
      await leased.start();
      if (!runner) logger.info({ lease: lease.key }, "telegram polling lease held elsewhere; standing by");
    },

    async stop() {
      active = false;
      if (leased) await leased.stop();
      else await stopRunner();
    },

    status() {
      const running = runner?.isRunning() ?? false;
      if (!lease) return { ok: running, running, ...(fatalError ? { error: fatalError } : {}) };
      // A standby process is healthy: it is ready to take over.
      const ok = active && !permanentFailure && (running || !lease.held);
      return { ok, running, leaseHeld: lease.held, ...(fatalError ? { error: fatalError } : {}) };
    },
  };
}
