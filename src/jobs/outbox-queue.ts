/**
 * The chat outbox: every card, notice, edit and reply goes through a BullMQ queue, so sends
 * survive restarts, retry on network errors, and are shared by all processes.
 *
 * For channels with platform limits (Telegram, WhatsApp) each message to a chat takes a
 * ticket (a per-chat counter in Redis) when queued, and is sent only when every earlier ticket
 * of that chat is done: order per chat holds through retries, 429s and restarts. The head of a
 * chat's line books a send slot from the shared {@link SlotReserver} (≤ 30 msg/s overall,
 * ≤ 1 msg/s per chat, ≤ 20/min per group) and waits for it as a delayed job. A 429 pushes the
 * chat's next slot back by `retry_after`; 403 and other permanent errors are not retried.
 * A card edit or announcement asked for by several processes at once is queued once: claiming
 * its job id and taking the ticket are one Redis script, so no ignored duplicate holds a ticket.
 *
 * A message held for its reader's quiet hours (`heldUntil`) waits as a delayed job without a
 * ticket, so it survives restarts and holds up nothing queued after it; when it wakes it takes
 * its chat's next ticket and goes like any other.
 */
import { RESUMABLE_WORKER_OPTIONS } from "./worker-options.js";
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { ChannelError, type ChannelName } from "../domain/channel.js";
import type { OutboxJob } from "../domain/outbox.js";
import { defineScripts } from "./redis/scripts.js";

/** The queue name (under the configured prefix). */
export const OUTBOX_QUEUE = "outbox";

/** Books send slots for a chat (see `chat-rate-limiter.ts`). */
export interface SlotReserver {
  reserve(chatKey: string, isGroup: boolean): Promise<number>;
  penalize(chatKey: string, retryAfterMs: number): Promise<void>;
}

/** Limits of one channel: its slot reserver and which chats are groups. */
export interface ChannelPacing {
  limiter: SlotReserver;
  isGroup(chatId: string): boolean;
  /** Random extra wait (0..jitterMs) on each booked slot, so sends do not look machine-timed. */
  jitterMs?: number;
}

/** A queued outbox job: the work, plus its place in its chat's line when the channel is paced. */
type QueuedJob = OutboxJob & { ticket?: number; slotAt?: number; queuedAt?: number };

/** A booked slot closer than this is waited for in process, not as a delayed job. */
const SLEEP_IN_PROCESS_MS = 40;

/**
 * How long a message waits for earlier ones before it goes anyway (a predecessor lost with
 * Redis must not block a chat forever): a minute, plus 5 s per message ahead of it, at most 30
 * minutes (all scaled by `baseMs`). It never marks the earlier ones as sent: they still go when they can.
 */
export function predecessorPatienceMs(ahead: number, baseMs = 60_000): number {
  return Math.min(baseMs + (baseMs / 12) * ahead, 30 * baseMs);
}

/** A chat's line (ticket counter, watermark, handled set) is forgotten after a quiet week. */
const QUIET_CHAT_TTL_S = 7 * 24 * 3600;

/**
 * How long a job id's claim lives when the process that took it dies before adding the job:
 * a retry of the same card edit after that is queued again. Adding takes milliseconds.
 */
const CLAIM_TTL_MS = 60_000;

/** Redis commands of this module, defined once per connection (KEYS and ARGV in each .lua header). */
interface OutboxCommands {
  /** outbox-enqueue.lua: the chat's next ticket, or null for a job id already queued or claimed. */
  signoffOutboxEnqueue(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number | null>;
  /** outbox-mark-done.lua: the chat's new watermark. */
  signoffOutboxMarkDone(
    watermark: string,
    handled: string,
    counter: string,
    ticket: number,
    impatient: "1" | "0",
    ttlS: number,
  ): Promise<number>;
}

/** Defines this module's Lua commands on `connection` (idempotent) and returns it typed with them. */
export function withOutboxCommands(connection: Redis): Redis & OutboxCommands {
  return defineScripts<OutboxCommands>(connection, {
    // Enqueue takes 3 keys, or 5 for a job with an id: the caller passes the count.
    signoffOutboxEnqueue: { file: new URL("./outbox-enqueue.lua", import.meta.url) },
    signoffOutboxMarkDone: { file: new URL("./outbox-mark-done.lua", import.meta.url), numberOfKeys: 3 },
  });
}

const ticketKey = (prefix: string, key: string) => `${prefix}:outbox-ticket:${key}`;
const doneKey = (prefix: string, key: string) => `${prefix}:outbox-done:${key}`;
const doneSetKey = (prefix: string, key: string) => `${prefix}:outbox-done-set:${key}`;

/** The chat a job sends to. */
export function chatOf(job: OutboxJob): { channel: ChannelName; chatId: string } {
  if (job.op === "edit") return { channel: job.ref.channel, chatId: job.ref.chatId };
  return { channel: job.channel, chatId: job.chatId };
}

const chatKey = (channel: ChannelName, chatId: string) => `${channel}:${chatId}`;

/** Channels that live in this process's memory (the web chat): sent to directly, in order per chat. */
export interface LocalDelivery {
  channels: ReadonlySet<ChannelName>;
  perform(job: OutboxJob): Promise<void>;
  onError(error: unknown, job: OutboxJob): void;
}

/**
 * Create the outbox queue and its `enqueue`. Card edits are deduplicated per approval version.
 * Jobs for a `local` channel skip Redis: its messages cannot outlive the process anyway, and a
 * queue would only add latency. They still run one after another per chat.
 */
export function createOutboxQueue(
  connection: Redis,
  prefix: string,
  paced: ReadonlySet<ChannelName> = new Set(),
  local?: LocalDelivery,
) {
  const queue = new Queue<QueuedJob>(OUTBOX_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 10,
      backoff: { type: "exponential", delay: 500 },
      removeOnComplete: true,
      removeOnFail: 5000,
    },
  });
  const localChains = new Map<string, Promise<void>>();
  const redis = withOutboxCommands(connection);
  const claimKey = (jobId: string) => `${prefix}:outbox-claim:${jobId}`;
  const localHolds = new Set<ReturnType<typeof setTimeout>>();

  /** Keep a message until its reader's quiet hours end (see the module comment). */
  async function hold(job: Exclude<OutboxJob, { op: "edit" }>, holdMs: number): Promise<void> {
    if (local?.channels.has(job.channel)) {
      // In-memory chats cannot outlive the process anyway: a timer is enough.
      const timer = setTimeout(() => {
        localHolds.delete(timer);
        void outbox.enqueue(job).catch((error) => local.onError(error, job));
      }, holdMs);
      timer.unref();
      localHolds.add(timer);
      return;
    }
    const jobId =
      job.op === "announce"
        ? `held-${job.announcement}-${job.approvalId}-${job.channel}-${job.chatId}`.replace(/:/g, "_")
        : undefined;
    await queue.add(job.op, job, { delay: holdMs, ...(jobId ? { jobId } : {}) });
  }

  const outbox = {
    queue,
    async enqueue(job: OutboxJob): Promise<void> {
      const chat = chatOf(job);
      if (job.op !== "edit" && job.heldUntil !== undefined && job.heldUntil > Date.now())
        return hold(job, job.heldUntil - Date.now());
      if (local?.channels.has(chat.channel)) {
        const key = chatKey(chat.channel, chat.chatId);
        const next = (localChains.get(key) ?? Promise.resolve())
          .then(() => local.perform(job))
          .catch((error) => local.onError(error, job));
        localChains.set(key, next);
        void next.finally(() => {
          if (localChains.get(key) === next) localChains.delete(key);
        });
        return;
      }
      // BullMQ ids may not contain ":"; one edit per card and approval version, one announcement of
      // each kind per chat (a notice that reached nobody is followed by a card under its own id).
      const jobId = (
        job.op === "edit"
          ? `edit-${job.approvalId}-${job.version}-${job.ref.channel}-${job.ref.chatId}-${job.ref.messageId}`
          : job.op === "announce"
            ? `announce-${job.announcement}-${job.approvalId}-${job.channel}-${job.chatId}`
            : undefined
      )?.replace(/:/g, "_");
      // Unpaced: the queue itself ignores a second add of the same id, and there is no ticket.
      if (!paced.has(chat.channel)) {
        await queue.add(job.op, job, jobId ? { jobId } : {});
        return;
      }
      // Paced: a duplicate must not take a ticket (its add would be ignored and the hole would
      // stall the chat), so "not queued yet? claim it and take a ticket" is one Redis step.
      const key = chatKey(chat.channel, chat.chatId);
      const line = [ticketKey(prefix, key), doneKey(prefix, key), doneSetKey(prefix, key)];
      const ticket = jobId
        ? await redis.signoffOutboxEnqueue(
            5,
            ...line,
            queue.toKey(jobId),
            claimKey(jobId),
            QUIET_CHAT_TTL_S,
            CLAIM_TTL_MS,
          )
        : await redis.signoffOutboxEnqueue(3, ...line, QUIET_CHAT_TTL_S);
      if (ticket === null) return;
      // If the process dies here, the ticket is a hole: the chat's next messages wait at most
      // their patience (a minute or so) and then go; the claim expires so the edit can be queued again.
      try {
        await queue.add(job.op, { ...job, ticket, queuedAt: Date.now() }, jobId ? { jobId } : {});
      } finally {
        // Once added, the job's own hash marks it queued. Dropping the claim keeps a later,
        // legitimate announcement to the same chat (after this one was sent) from being swallowed.
        if (jobId) await redis.del(claimKey(jobId));
      }
    },
    /** Resolves once every local delivery queued so far is done (shutdown, tests). */
    async drainLocal(): Promise<void> {
      for (const timer of localHolds) clearTimeout(timer);
      localHolds.clear();
      while (localChains.size) await Promise.all([...localChains.values()]);
    },
  };
  return outbox;
}

/** The worker that performs outbox jobs with the presenter, in order and within limits. */
export function createOutboxWorker(
  connection: Redis,
  prefix: string,
  perform: (job: OutboxJob) => Promise<void>,
  logger: { warn(o: object, m?: string): void },
  options: { concurrency?: number; pacing?: Partial<Record<ChannelName, ChannelPacing>>; patienceMs?: number } = {},
) {
  const redis = withOutboxCommands(connection);
  const delay = async (
    job: Job<QueuedJob>,
    token: string | undefined,
    until: number,
    data?: QueuedJob,
  ): Promise<never> => {
    if (data) await job.updateData(data);
    await job.moveToDelayed(until, token);
    throw new DelayedError();
  };

  return new Worker<QueuedJob>(
    OUTBOX_QUEUE,
    async (job: Job<QueuedJob>, token?: string) => {
      const chat = chatOf(job.data);
      const pacing = options.pacing?.[chat.channel];
      const key = chatKey(chat.channel, chat.chatId);
      if (pacing && job.data.ticket === undefined && job.data.op !== "edit" && job.data.heldUntil !== undefined) {
        // Released from quiet hours: take this chat's next place in line now, then go as usual.
        const line = [ticketKey(prefix, key), doneKey(prefix, key), doneSetKey(prefix, key)];
        const place = await redis.signoffOutboxEnqueue(3, ...line, QUIET_CHAT_TTL_S);
        if (place !== null) await job.updateData({ ...job.data, ticket: place, queuedAt: Date.now() });
      }
      if (!pacing || job.data.ticket === undefined) return runOnce(job, token);

      const ticket = job.data.ticket;
      const [doneRaw, sentAlready] = await Promise.all([
        redis.get(doneKey(prefix, key)),
        redis.sismember(doneSetKey(prefix, key), String(ticket)),
      ]);
      const done = Number(doneRaw ?? 0);
      if (sentAlready === 1) return "already sent"; // a redelivered job whose send completed
      const waitedTooLong =
        Date.now() - (job.data.queuedAt ?? 0) > predecessorPatienceMs(ticket - done - 1, options.patienceMs);
      const impatient = ticket > done + 1 && waitedTooLong;
      if (ticket > done + 1 && !waitedTooLong) {
        // Earlier messages to this chat are still on their way: come back about when it is our
        // turn (a deep backlog wakes rarely instead of every job polling every second).
        return delay(job, token, Date.now() + Math.min(250 * (ticket - done - 1), 60_000));
      }
      let slotAt = job.data.slotAt;
      if (slotAt === undefined) {
        const jitter = pacing.jitterMs ? Math.floor(Math.random() * pacing.jitterMs) : 0;
        slotAt = Date.now() + (await pacing.limiter.reserve(key, pacing.isGroup(chat.chatId))) + jitter;
        if (slotAt - Date.now() > SLEEP_IN_PROCESS_MS)
          return delay(job, token, slotAt - SLEEP_IN_PROCESS_MS, { ...job.data, slotAt });
      } else if (slotAt - Date.now() > SLEEP_IN_PROCESS_MS) {
        return delay(job, token, slotAt - SLEEP_IN_PROCESS_MS);
      }
      // Delayed jobs wake up to ~1/hz late; the last stretch is slept here so sends keep their
      // spacing and the platform never sees two closer than the calendar allows.
      if (slotAt > Date.now()) await new Promise((r) => setTimeout(r, slotAt - Date.now()));
      try {
        await perform(job.data);
      } catch (error) {
        if (error instanceof ChannelError && !error.permanent && error.retryAfterMs !== undefined) {
          await pacing.limiter.penalize(key, error.retryAfterMs);
          logger.warn(
            { queue: OUTBOX_QUEUE, jobId: job.id, chat: key, retryAfterMs: error.retryAfterMs },
            "rate limited by the platform",
          );
          const { slotAt: _dropped, ...rest } = job.data;
          return delay(job, token, Date.now() + error.retryAfterMs, rest);
        }
        if (error instanceof ChannelError && error.permanent) await markDone(key, ticket, impatient);
        else if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1))
          await markDone(key, ticket, impatient); // do not block the chat forever
        else {
          const { slotAt: _dropped, ...rest } = job.data;
          await job.updateData(rest); // book a fresh slot on the retry
        }
        throw classify(error, job);
      }
      await markDone(key, ticket, impatient);
      return "sent";
    },
    { connection, prefix, concurrency: options.concurrency ?? 10, ...RESUMABLE_WORKER_OPTIONS },
  );

  async function markDone(key: string, ticket: number, impatient: boolean): Promise<void> {
    await redis.signoffOutboxMarkDone(
      doneKey(prefix, key),
      doneSetKey(prefix, key),
      ticketKey(prefix, key),
      ticket,
      impatient ? "1" : "0",
      QUIET_CHAT_TTL_S,
    );
  }

  async function runOnce(job: Job<QueuedJob>, token: string | undefined) {
    try {
      await perform(job.data);
      return "sent";
    } catch (error) {
      if (error instanceof ChannelError && !error.permanent && error.retryAfterMs !== undefined) {
        return delay(job, token, Date.now() + error.retryAfterMs);
      }
      throw classify(error, job);
    }
  }

  function classify(error: unknown, job: Job<QueuedJob>): Error {
    if (error instanceof ChannelError) {
      logger.warn(
        { queue: OUTBOX_QUEUE, jobId: job.id, op: job.data.op, permanent: error.permanent, err: error.message },
        "outbox send failed",
      );
      if (error.permanent) return new UnrecoverableError(error.message);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
