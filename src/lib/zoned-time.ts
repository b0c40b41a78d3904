/**
 * Calendar days in the reader's timezone ("today", "yesterday", the last 7 days) and money in
 * the reader's locale. Pure, built on `Intl` only; DST days are 23 or 25 hours long, which is why
 * days are found by local midnight and never by adding 24 h.
 */

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function localParts(date: Date, zone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  let f = partFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    partFormatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(date)) if (part.type !== "literal") p[part.type] = Number(part.value);
  return { y: p.year!, m: p.month!, d: p.day!, h: p.hour!, mi: p.minute!, s: p.second! };
}

/** How far `zone`'s wall clock is ahead of UTC at `date`, in ms. */
function offsetMs(date: Date, zone: string): number {
  const p = localParts(date, zone);
  const wall = Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s);
  return wall - (date.getTime() - date.getUTCMilliseconds());
}

/** The instant local midnight begins on the local date y-m-d (calendar overflow allowed). */
function localMidnight(y: number, m: number, d: number, zone: string): Date {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offsetMs(new Date(wall), zone);
  t = wall - offsetMs(new Date(t), zone); // second pass: the offset at the answer, not the guess
  return new Date(t);
}

/** The start of the local day containing `date`, `offsetDays` days later (negative: earlier). */
export function startOfLocalDay(date: Date, zone: string, offsetDays = 0): Date {
  const p = localParts(date, zone);
  return localMidnight(p.y, p.m, p.d + offsetDays, zone);
}

/** The local date of `date` as YYYY-MM-DD (e.g. the key of a once-a-day alert). */
export function localDateKey(date: Date, zone: string): string {
  const p = localParts(date, zone);
  return `${p.y}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** "Wed 12 Mar": a day as the reader names it. */
export function formatDay(date: Date, zone: string): string {
  let f = dayFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", day: "numeric", month: "short" });
    dayFormatters.set(zone, f);
  }
  return f.format(date).replace(",", "");
}

const moneyFormatters = new Map<string, Intl.NumberFormat>();

/** "$12.34", "€3.50", "NZ$7.00": an amount in its currency, in the reader's locale. */
export function formatMoney(amount: number, currency: string, locale = "en-US"): string {
  const key = `${locale}|${currency}`;
  let f = moneyFormatters.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, {
        style: "currency",
        currency,
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
    } catch {
      f = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    moneyFormatters.set(key, f);
  }
  const text = f.format(amount);
  return f.resolvedOptions().style === "currency" ? text : `${text} ${currency}`;
}

/** Several currencies' amounts as one phrase: "$12.34 + €3.00" ("$0.00" when empty). */
export function formatMoneyList(
  items: ReadonlyArray<{ amount: number; currency: string }>,
  fallbackCurrency: string,
  locale?: string,
): string {
  if (items.length === 0) return formatMoney(0, fallbackCurrency, locale);
  return items.map((m) => formatMoney(m.amount, m.currency, locale)).join(" + ");
}
