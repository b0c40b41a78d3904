/**
 * Seals new audit entries into the hash chain a few times a second. Every process runs one;
 * the store's advisory lock lets one seal at a time, the others skip.
 */

/** Start sealing every `everyMs`; returns a stop function. */
export function startAuditSealer(
  audit: { seal(): Promise<number> },
  logger: { warn(obj: object, msg?: string): void },
  everyMs = 250,
): () => void {
  let sealing = false;
  const timer = setInterval(() => {
    if (sealing) return;
    sealing = true;
    audit
      .seal()
      .catch((err) => logger.warn({ err: (err as Error).message }, "audit sealing failed; will retry"))
      .finally(() => (sealing = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
