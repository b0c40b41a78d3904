/**
 * Times for the reader: their timezone, short forms ("Sun 14:30", "in 3h 5m").
 */
import dayjs from "dayjs";
import timezone from "dayjs/plugin/timezone.js";
import utc from "dayjs/plugin/utc.js";

dayjs.extend(utc);
dayjs.extend(timezone);

/** "14:30" today, else "Sun 14:30", in `zone`. */
export function formatClock(date: Date, zone: string, now: Date = new Date()): string {
  const d = dayjs(date).tz(zone);
  const sameDay = d.format("YYYY-MM-DD") === dayjs(now).tz(zone).format("YYYY-MM-DD");
  return sameDay ? d.format("HH:mm") : d.format("ddd D MMM HH:mm");
}

/** "3h 5m", "45s": how long until `date` (or "now" when past). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "now";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** "14:30 NZDT (in 4h)": a deadline as the reader sees it. */
export function formatDeadline(date: Date, zone: string, now: Date = new Date()): string {
  const abbreviation = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "short" })
    .formatToParts(date)
    .find((p) => p.type === "timeZoneName")?.value;
  return `${formatClock(date, zone, now)}${abbreviation ? ` ${abbreviation}` : ""} (in ${formatDuration(date.getTime() - now.getTime())})`;
}
