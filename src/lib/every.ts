/**
 * Run a task on a fixed interval without overlapping runs: a run that takes longer than the
 * interval makes the next tick skip instead of piling up. Failures go to `onError` and the loop
 * goes on. The timer never keeps the process alive.
 */

/** Start running `task` every `ms`; returns a function that stops it. */
export function every(ms: number, task: () => Promise<unknown>, onError: (error: unknown) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
