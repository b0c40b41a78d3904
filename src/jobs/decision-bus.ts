/**
 * "This approval changed" notifications over Redis pub/sub, so a `?wait=N` long poll answered by
 * one process wakes when another process decides.
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

/** Create the bus; `subscriber` must be a dedicated connection (it enters subscribe mode). */
export async function createDecisionBus(publisher: Redis, subscriber: Redis, prefix: string): Promise<DecisionBus> {
  const channel = `${prefix}:decided`;
  const local = new EventEmitter();
  const waiting = new Set<() => void>();
  local.setMaxListeners(0);
  subscriber.on("message", (ch: string, id: string) => {
    if (ch === channel) local.emit(id);
  });
  await subscriber.subscribe(channel);
  return {
    async publish(approvalId) {
      await publisher.publish(channel, approvalId);
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
