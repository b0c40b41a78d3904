/**
 * Away and back, as pure rules: reading the date an operator types (`2026-12-24`, `friday`,
 * `tomorrow 9:00`, in their timezone), who gets an approval's messages while some eligible
 * operators are away, and which roles a delegate answers with.
 */
import type { Actor } from "../../domain/approval.js";
import { localClockOn } from "../../lib/quiet-hours.js";
import { formatClock } from "../../lib/time-format.js";
import { formatDay, localDateKey, startOfLocalDay } from "../../lib/zoned-time.js";

/** An absence as routing needs it. */
export interface AbsenceView {
  operator: string;
  until: Date;
  delegate: string | null;
}

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
const SHORT_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/** An absence longer than this is a typo, not a plan. */
const MAX_AWAY_DAYS = 366;

/** Date forms `away until` understands, for the reply to one it does not. */
export const AWAY_EXAMPLES = ["2026-12-24", "friday", "tomorrow 9:00", "monday 14:30"];

/**
 * The moment `typed` names in `zone`, strictly after `now`: `YYYY-MM-DD`, `today`, `tomorrow` or
 * a weekday (the next one, never today), each optionally followed by `H:MM`. A day without a
 * time means its start (the operator is back that day). Null for anything else, or a moment not
 * in the future, or more than a year ahead.
 */
export function parseAwayUntil(typed: string, zone: string, now: Date): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2}|today|tomorrow|[a-z]+)(?:\s+(?:at\s+)?([01]?\d|2[0-3]):([0-5]\d))?$/.exec(
    typed.trim().toLowerCase(),
  );
  if (!m) return null;
  const day = m[1]!;
  let offsetDays: number | null = null;
  if (day === "today") offsetDays = 0;
  else if (day === "tomorrow") offsetDays = 1;
  else if (/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    const [y, mo, d] = day.split("-").map(Number) as [number, number, number];
    const asked = Date.UTC(y, mo - 1, d);
    if (new Date(asked).toISOString().slice(0, 10) !== day) return null; // 2026-02-30
    const today = Date.parse(`${localDateKey(now, zone)}T00:00:00Z`);
    offsetDays = Math.round((asked - today) / 86_400_000);
  } else {
    const weekday = Math.max(WEEKDAYS.indexOf(day), SHORT_WEEKDAYS.indexOf(day));
    if (weekday < 0) return null;
    const todayWeekday = new Date(`${localDateKey(now, zone)}T12:00:00Z`).getUTCDay();
    offsetDays = (weekday - todayWeekday + 7) % 7 || 7;
  }
  if (offsetDays < 0 || offsetDays > MAX_AWAY_DAYS) return null;
  const until =
    m[2] === undefined
      ? startOfLocalDay(now, zone, offsetDays)
      : localClockOn(now, zone, offsetDays, Number(m[2]) * 60 + Number(m[3]));
  return until.getTime() > now.getTime() ? until : null;
}

/** "Fri 24 Dec" for a day's start, "Fri 24 Dec 09:00" (or "09:00" today) otherwise, in `zone`. */
export function formatAwayUntil(until: Date, zone: string, now: Date): string {
  if (startOfLocalDay(until, zone).getTime() === until.getTime()) return formatDay(until, zone);
  return formatClock(until, zone, now);
}

/**
 * Who gets an approval's messages, given who could answer it (`eligible`) and who is away: an
 * operator who is away is replaced by their delegate (when the delegate is known and not away
 * themselves), or dropped. If that leaves nobody, everyone eligible gets it after all: a request
 * is never left with nobody able to answer. Order is kept, without duplicates.
 */
export function routeAround<T extends { name: string }>(
  eligible: readonly T[],
  away: readonly AbsenceView[],
  byName: (name: string) => T | undefined,
): T[] {
  const absent = new Map(away.map((a) => [a.operator, a]));
  const out = new Map<string, T>();
  for (const op of eligible) {
    const absence = absent.get(op.name);
    if (!absence) {
      out.set(op.name, op);
      continue;
    }
    const delegate = absence.delegate && !absent.has(absence.delegate) ? byName(absence.delegate) : undefined;
    if (delegate) out.set(delegate.name, delegate);
  }
  if (out.size === 0) return [...eligible];
  return [...out.values()];
}

/** The roles `actor` answers with for operators away who named them as delegate (none otherwise). */
export function delegatedRoles(
  actor: Pick<Actor, "name">,
  away: readonly AbsenceView[],
  rolesOf: (name: string) => readonly string[] | undefined,
): string[] {
  const roles = new Set<string>();
  for (const a of away) if (a.delegate === actor.name) for (const r of rolesOf(a.operator) ?? []) roles.add(r);
  return [...roles];
}
