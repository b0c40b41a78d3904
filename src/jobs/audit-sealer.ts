/**
 * Seals new audit entries into the hash chain a few times a second. Every process runs one;
 * the store's advisory lock lets one seal at a time, the others skip. Entries it finds older
 * than the sealing interval are sealed too (signoff may simply have been stopped), with a warning:
 * the same picture is what someone who cleared seals to rewrite the log would leave.
 */
import { every } from "../lib/every.js";
import type { LateEntries, SealOptions } from "../store/audit-store.js";

/** How often each process tries to seal. */
export const AUDIT_SEAL_EVERY_MS = 250;

/** Start sealing every `everyMs`; returns a stop function. */
export function startAuditSealer(
  audit: { seal(options?: SealOptions): Promise<number> },
  logger: { warn(obj: object, msg?: string): void },
  everyMs = AUDIT_SEAL_EVERY_MS,
): () => void {
  const onLate = (late: LateEntries) =>
    logger.warn(
      { entries: late.count, firstId: late.firstId },
      "sealed audit entries that had waited longer than the sealing interval: fine if signoff was stopped, " +
        "otherwise their seals were cleared and they may have been edited; " +
        "check that the chain head extends the one you recorded",
    );
  return every(
    everyMs,
    () => audit.seal({ onLate }),
    (err) => logger.warn({ err: (err as Error).message }, "audit sealing failed; will retry"),
  );
}
