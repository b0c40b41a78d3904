/**
 * "This approval changed" notifications over Redis pub/sub, so a `?wait=N` long poll answered by
 * one process wakes when another process decides. The ids changed within one turn of the event
 * loop go out as one message (space-separated): thousands of timers deciding a second cost a
 * handful of messages, not one each, in Redis and in every subscribed process.
 */
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";

/** Publish decisions and wait for them. */
export interface DecisionBus {
  publish(approvalId: string): Promise<void>;
  /** Resolves when `approvalId` changes or `ms` passes; `signal` aborts early. */
  waitFor(approvalId: string, ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Wake every waiting long poll now (shutdown): each answers with the record as it stands, so
   * clients get a response and poll again (elsewhere) instead of a dropped connection.
   */
  wakeAll(): void;
  close(): Promise<void>;
}

/** Ids per message at most, so one message stays small (a uuid is 36 characters). */
const MAX_IDS_PER_MESSAGE = 500;

/** Create the bus; `subscriber` must be a dedicated connection (it enters subscribe mode). */
export async function createDecisionBus(publisher: Redis, subscriber: Redis, prefix: string): Promise<DecisionBus> {
  const channel = `${prefix}:decided`;
  const local = new EventEmitter();
  const waiting = new Set<() => void>();
  local.setMaxListeners(0);
  subscriber.on("message", (ch: string, ids: string) => {
    if (ch !== channel) return;
    for (const id of ids.split(" ")) if (local.listenerCount(id) > 0) local.emit(id);
  });
  await subscriber.subscribe(channel);

  let gathered: Array<{ id: string; resolve(): void; reject(error: unknown): void }> = [];
  const send = () => {
    const batch = gathered;
    gathered = [];
    for (let from = 0; from < batch.length; from += MAX_IDS_PER_MESSAGE) {
      const part = batch.slice(from, from + MAX_IDS_PER_MESSAGE);
      publisher.publish(channel, [...new Set(part.map((p) => p.id))].join(" ")).then(
        () => {
          for (const p of part) p.resolve();
        },
        (error: unknown) => {
          for (const p of part) p.reject(error);
        },
      );
    }
  };

  return {
    publish(approvalId) {
      return new Promise<void>((resolve, reject) => {
        if (gathered.length === 0) setImmediate(send);
        gathered.push({ id: approvalId, resolve, reject });
      });
    },
    waitFor(approvalId, ms, signal) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          local.off(approvalId, done);
          signal?.removeEventListener("abort", done);
          waiting.delete(done);
          resolve();
        };
        waiting.add(done);
        const timer = setTimeout(done, ms);
        local.on(approvalId, done);
        signal?.addEventListener("abort", done);
      });
    },
    wakeAll() {
      for (const done of [...waiting]) done();
    },
    async close() {
      await subscriber.unsubscribe(channel).catch(() => undefined);
      local.removeAllListeners();
    },
  };
}
