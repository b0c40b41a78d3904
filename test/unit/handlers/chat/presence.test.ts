import { describe, expect, it } from "vitest";
import {
  delegatedRoles,
  formatAwayUntil,
  parseAwayUntil,
  routeAround,
} from "../../../../src/handlers/chat/presence.js";

// Wednesday 10 June 2026, 15:00 in Berlin (13:00 UTC).
const NOW = new Date("2026-06-10T13:00:00Z");
const ZONE = "Europe/Berlin";
const iso = (typed: string) => parseAwayUntil(typed, ZONE, NOW)?.toISOString() ?? null;

describe("away until <date>", () => {
  it("reads the forms operators type, in their timezone: a day means its start, a time that moment", () => {
    expect(iso("2026-12-24")).toBe("2026-12-23T23:00:00.000Z");
    expect(iso("tomorrow 9:00")).toBe("2026-06-11T07:00:00.000Z");
    expect(iso("tomorrow")).toBe("2026-06-10T22:00:00.000Z");
    expect(iso("friday")).toBe("2026-06-11T22:00:00.000Z");
    expect(iso("Fri")).toBe("2026-06-11T22:00:00.000Z");
    expect(iso("monday 14:30")).toBe("2026-06-15T12:30:00.000Z");
    expect(iso("wednesday")).toBe("2026-06-16T22:00:00.000Z"); // today's weekday: next week
    expect(iso("today 18:00")).toBe("2026-06-10T16:00:00.000Z");
  });

  it("refuses what it cannot read, the past, impossible dates and more than a year ahead", () => {
    for (const typed of [
      "next week",
      "soon",
      "2026-02-30",
      "2026-06-01",
      "today 9:00",
      "today",
      "24/12",
      "2028-01-01",
      "friday 25:00",
    ])
      expect(iso(typed), typed).toBeNull();
  });

  it("shows a day as the reader names it, a time with its clock", () => {
    expect(formatAwayUntil(new Date("2026-12-23T23:00:00Z"), ZONE, NOW)).toBe("Thu 24 Dec");
    expect(formatAwayUntil(new Date("2026-06-11T07:00:00Z"), ZONE, NOW)).toBe("Thu 11 Jun 09:00");
  });
});

describe("routing around absent operators", () => {
  const ops = ["adam", "eve", "bob"].map((name) => ({ name }));
  const byName = (name: string) => ops.find((o) => o.name === name);
  const until = new Date("2030-01-01");
  const names = (list: { name: string }[]) => list.map((o) => o.name);

  it("an absent operator's messages go to their delegate, or to nobody when they named none", () => {
    expect(names(routeAround(ops.slice(0, 2), [{ operator: "eve", until, delegate: "bob" }], byName))).toEqual([
      "adam",
      "bob",
    ]);
    expect(names(routeAround(ops.slice(0, 2), [{ operator: "eve", until, delegate: null }], byName))).toEqual(["adam"]);
  });

  it("never leaves a request with nobody: all eligible away without a reachable delegate get it anyway", () => {
    const away = [
      { operator: "eve", until, delegate: null },
      { operator: "adam", until, delegate: "eve" }, // the delegate is away too
    ];
    expect(names(routeAround(ops.slice(0, 2), away, byName))).toEqual(["adam", "eve"]);
  });

  it("a delegate answers with the roles of those who named them, only them", () => {
    const roles: Record<string, string[]> = { eve: ["release"], adam: ["owner"] };
    const away = [
      { operator: "eve", until, delegate: "bob" },
      { operator: "adam", until, delegate: null },
    ];
    expect(delegatedRoles({ name: "bob" }, away, (n) => roles[n])).toEqual(["release"]);
    expect(delegatedRoles({ name: "vic" }, away, (n) => roles[n])).toEqual([]);
  });
});
