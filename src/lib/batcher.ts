/**
 * Natural batching for hot writes: the first call goes out at once; calls made while
 * `maxInFlight` flushes are already running wait and go out together in the next flush.
 * Under light load this adds no delay; under heavy load one statement carries many rows,
 * which saves round trips and WAL flushes.
 */

/** Options of {@link createBatcher}. */
export interface BatcherOptions<In> {
  /** Most items in one flush. @defaultValue 100 */
  maxBatch?: number;
  /** Flushes running at once. @defaultValue 4 */
  maxInFlight?: number;
  /**
   * Items with the same key never share a flush (e.g. two answers to one approval: inside one
   * statement both would see the same old version, and both would win).
   */
  keyOf?: (item: In) => string;
  /**
   * While a flush is running, calls made in one turn of the event loop go out together at the
   * end of the turn instead of each taking a free slot alone; an idle batcher still sends the
   * first call at once. For callers that arrive in bursts, like a batch of timers that all read
   * and write at once. @defaultValue false
   */
  gather?: boolean;
}

interface Waiting<In, Out> {
  item: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

/**
 * Build a batched function from `flush`, which must return one result per item, in order.
 * When `flush` throws (or returns a different number of results), every item of that batch is
 * rejected with the error; other batches are not affected.
 */
export function createBatcher<In, Out>(flush: (items: In[]) => Promise<Out[]>, options: BatcherOptions<In> = {}) {
  const maxBatch = options.maxBatch ?? 100;
  const maxInFlight = options.maxInFlight ?? 4;
  const queue: Array<Waiting<In, Out>> = [];
  let inFlight = 0;

  function takeBatch(): Array<Waiting<In, Out>> {
    if (!options.keyOf) return queue.splice(0, maxBatch);
    const keys = new Set<string>();
    const batch: Array<Waiting<In, Out>> = [];
    for (let i = 0; i < queue.length && batch.length < maxBatch; ) {
      const key = options.keyOf(queue[i]!.item);
      if (keys.has(key)) {
        i++;
        continue;
      }
      keys.add(key);
      batch.push(queue.splice(i, 1)[0]!);
    }
    return batch;
  }

  /** `flush`, with a synchronous throw turned into a rejection so the flush's slot is given back. */
  function run(items: In[]): Promise<Out[]> {
    try {
      return flush(items);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      inFlight++;
      run(batch.map((w) => w.item))
        .then((results) => {
          // A miscounted result would hand one caller another's outcome (or none).
          if (results.length !== batch.length)
            throw new Error(`batch flush returned ${results.length} results for ${batch.length} items`);
          for (const [i, w] of batch.entries()) w.resolve(results[i] as Out);
        })
        .catch((error: unknown) => {
          for (const w of batch) w.reject(error);
        })
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  }

  let gathering = false;
  const pumpAfterTurn = () => {
    if (gathering) return;
    gathering = true;
    setImmediate(() => {
      gathering = false;
      pump();
    });
  };

  return (item: In): Promise<Out> =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // Idle, the call goes out at once; busy, it waits for the rest of this turn's calls.
      if (options.gather && inFlight > 0) pumpAfterTurn();
      else pump();
    });
}
