/**
 * Times for the reader: their timezone, short forms ("Sun 14:30", "in 3h 5m"). Built on
 * `Intl.DateTimeFormat` with one cached formatter per zone: cards are rendered on hot paths.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

// Parts change once a minute; cards are rendered many times a second, so remember them.
const partsCache = new Map<string, Record<string, string>>();

function partsIn(date: Date, zone: string): Record<string, string> {
  const key = `${zone}|${Math.floor(date.getTime() / 60_000)}`;
  const cached = partsCache.get(key);
  if (cached) return cached;
  if (partsCache.size > 5_000) partsCache.clear();
  const parts = formatParts(date, zone);
  partsCache.set(key, parts);
  return parts;
}

function formatParts(date: Date, zone: string): Record<string, string> {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      year: "numeric",
      month: "short",
      day: "numeric",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formatters.set(zone, formatter);
  }
  const out: Record<string, string> = {};
  for (const part of formatter.formatToParts(date)) out[part.type] = part.value;
  return out;
}

/** "14:30" today, else "Sun 22 Nov 14:30", in `zone`. */
export function formatClock(date: Date, zone: string, now: Date = new Date()): string {
  const d = partsIn(date, zone);
  const today = partsIn(now, zone);
  const time = `${d.hour}:${d.minute}`;
  const sameDay = d.year === today.year && d.month === today.month && d.day === today.day;
  return sameDay ? time : `${d.weekday} ${d.day} ${d.month} ${time}`;
}

/** "3h 5m", "45s": a duration as people say it ("now" when not positive). */
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

/** "14:30 GMT+13 (in 4h)": a deadline as the reader sees it. */
export function formatDeadline(date: Date, zone: string, now: Date = new Date()): string {
  const zoneName = partsIn(date, zone).timeZoneName;
  return `${formatClock(date, zone, now)}${zoneName ? ` ${zoneName}` : ""} (in ${formatDuration(date.getTime() - now.getTime())})`;
}
