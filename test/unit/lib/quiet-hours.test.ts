import { describe, expect, it } from "vitest";
import { localClockOn, quietUntil } from "../../../src/lib/quiet-hours.js";

describe("quiet hours", () => {
  it("across midnight: inside before and after midnight, ending at the next end time; outside gives null", () => {
    const zone = "Europe/Berlin"; // UTC+1 in January
    expect(quietUntil("22:00-07:00", zone, new Date("2026-01-10T22:30:00Z"))?.toISOString()).toBe(
      "2026-01-11T06:00:00.000Z",
    );
    expect(quietUntil("22:00-07:00", zone, new Date("2026-01-11T03:00:00Z"))?.toISOString()).toBe(
      "2026-01-11T06:00:00.000Z",
    );
    expect(quietUntil("22:00-07:00", zone, new Date("2026-01-11T06:00:00Z"))).toBeNull(); // 07:00 sharp: over
    expect(quietUntil("22:00-07:00", zone, new Date("2026-01-11T12:00:00Z"))).toBeNull();
    expect(quietUntil("22:00-07:00", zone, new Date("2026-01-10T20:59:00Z"))).toBeNull(); // 21:59
  });

  it("within one day, and no range at all", () => {
    expect(quietUntil("12:00-13:30", "UTC", new Date("2026-05-01T12:10:00Z"))?.toISOString()).toBe(
      "2026-05-01T13:30:00.000Z",
    );
    expect(quietUntil("12:00-13:30", "UTC", new Date("2026-05-01T13:31:00Z"))).toBeNull();
    expect(quietUntil(undefined, "UTC", new Date())).toBeNull();
  });

  it("a wall-clock time on a day the clocks change is the instant that clock shows", () => {
    // Berlin springs forward on 29 Mar 2026 at 02:00 → 03:00: 07:00 that day is 05:00 UTC.
    expect(localClockOn(new Date("2026-03-28T23:30:00Z"), "Europe/Berlin", 0, 7 * 60).toISOString()).toBe(
      "2026-03-29T05:00:00.000Z",
    );
  });
});
