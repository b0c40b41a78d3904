/**
 * Quiet hours such as `"22:00-07:00"` in an operator's timezone: whether a moment falls inside
 * them and when they end. Pure, built on `Intl` only.
 */
import { startOfLocalDay } from "./zoned-time.js";

const clockFormatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight of `date` in `zone`. */
function localMinutes(date: Date, zone: string): number {
  let f = clockFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", hour: "numeric", minute: "numeric" });
    clockFormatters.set(zone, f);
  }
  const parts = f.formatToParts(date);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

const toMinutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * The instant the local wall clock reads `minutes` past midnight on the local day of `date`,
 * `offsetDays` later. On a day the clocks change, a time that does not exist is taken an hour later.
 */
export function localClockOn(date: Date, zone: string, offsetDays: number, minutes: number): Date {
  const midnight = startOfLocalDay(date, zone, offsetDays);
  const guess = new Date(midnight.getTime() + minutes * 60_000);
  // The offset may change between midnight and then (DST): correct by what the clock shows.
  const shown = localMinutes(guess, zone);
  const drift = ((shown - minutes + 36 * 60) % (24 * 60)) - 12 * 60;
  return new Date(guess.getTime() - drift * 60_000);
}

/**
 * When the quiet hours `range` (`"HH:MM-HH:MM"`, may cross midnight) around `now` end, or null
 * when `now` is outside them (or no range is set).
 *
 * @example quietUntil("22:00-07:00", "Europe/Berlin", new Date("2026-03-01T23:30:00+01:00")) // 07:00 next morning
 */
export function quietUntil(range: string | undefined, zone: string, now: Date): Date | null {
  if (!range) return null;
  const start = toMinutes(range.slice(0, 5));
  const end = toMinutes(range.slice(6, 11));
  const m = localMinutes(now, zone);
  if (start < end) return m >= start && m < end ? localClockOn(now, zone, 0, end) : null;
  if (m >= start) return localClockOn(now, zone, 1, end); // before midnight: ends tomorrow
  if (m < end) return localClockOn(now, zone, 0, end);
  return null;
}
