/**
 * When digests are due: an operator's `digest` cron read in their IANA timezone, so "0 8 * * *"
 * means 08:00 on their wall clock on both sides of a DST change. Pure (cron-parser only); the
 * BullMQ job scheduler uses the same cron library with the same `tz`.
 */
import { CronExpressionParser } from "cron-parser";

/** How early a scheduled job may run and still count as its slot (clock differences). */
export const SLOT_TOLERANCE_MS = 60_000;

/**
 * The slot a digest run at `now` belongs to: the latest fire time at or before `now` (a run up to
 * {@link SLOT_TOLERANCE_MS} early counts for the coming slot).
 */
export function digestSlotAt(cron: string, timezone: string, now: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: new Date(now.getTime() + SLOT_TOLERANCE_MS), tz: timezone })
    .prev()
    .toDate();
}

/** The fire time before `slot`: where the digest of `slot` starts its "overnight". */
export function previousSlot(cron: string, timezone: string, slot: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: slot, tz: timezone }).prev().toDate();
}
