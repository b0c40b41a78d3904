/**
 * How much memory the process keeps between garbage collections. By its own rule V8 lets the
 * heap grow to up to four times what was live at the last full collection; a reconcile over a
 * large backlog makes short-lived objects fast, so a process holding 60 MB of live objects would
 * sit at 250–400 MB of resident memory. A smaller growth step collects sooner, for more CPU (about
 * 30 % more in a reconcile pass over 100,000 pending); it is not a limit, the heap still grows as far as the live objects need.
 */
import { setFlagsFromString } from "node:v8";

/** Collect once the heap grew `percent` past its last live size (0: V8's own rule). */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent <= 0) return;
  // Read by V8 at every full collection, so setting it while running takes effect from the next.
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
