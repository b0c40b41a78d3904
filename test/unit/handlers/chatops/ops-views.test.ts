/**
 * Chat-ops formatting for the reader: local days across DST, money in its currency and
 * the reader's locale, agents up/down, the all-quiet digest in one line, and the templates
 * rendered as Telegram HTML (escaped), WhatsApp `*bold*` and plain text.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { Task } from "../../../../src/domain/operations.js";
import { agentStates, buildDigestView, buildFailuresView } from "../../../../src/handlers/chatops/ops-views.js";
import { createRenderer, type Renderer } from "../../../../src/handlers/chat/render.js";
import {
  formatDay,
  formatMoney,
  formatMoneyList,
  localDateKey,
  startOfLocalDay,
} from "../../../../src/lib/zoned-time.js";

let r: Renderer;
beforeAll(() => {
  r = createRenderer(PLATFORMS);
});

const settings = { currency: "USD", locale: "en-US", stuckAfterMs: 2 * 3_600_000 };
const noPause = { paused: false, by: null, at: null };

describe("local days", () => {
  it("a day in Auckland starts at local midnight, and the DST-end day is 25 hours long", () => {
    const noon = new Date("2026-04-05T00:00:00Z"); // Sun 5 Apr 12:00 NZST
    const start = startOfLocalDay(noon, "Pacific/Auckland");
    expect(start.toISOString()).toBe("2026-04-04T11:00:00.000Z"); // 00:00 NZDT (+13)
    expect(startOfLocalDay(noon, "Pacific/Auckland", 1).toISOString()).toBe("2026-04-05T12:00:00.000Z"); // 00:00 NZST (+12)
    expect(startOfLocalDay(noon, "Pacific/Auckland", -7).toISOString()).toBe("2026-03-28T11:00:00.000Z");
    expect(localDateKey(noon, "Pacific/Auckland")).toBe("2026-04-05");
    expect(formatDay(noon, "Pacific/Auckland")).toBe("Sun 5 Apr");
    expect(formatDay(noon, "America/Los_Angeles")).toBe("Sat 4 Apr");
  });

  it("Berlin's spring-forward day is 23 hours long", () => {
    const day = startOfLocalDay(new Date("2026-03-29T12:00:00Z"), "Europe/Berlin");
    const next = startOfLocalDay(new Date("2026-03-29T12:00:00Z"), "Europe/Berlin", 1);
    expect(day.toISOString()).toBe("2026-03-28T23:00:00.000Z");
    expect(next.getTime() - day.getTime()).toBe(23 * 3_600_000);
  });
});

describe("money", () => {
  it("in its currency and the reader's locale, never converted", () => {
    expect(formatMoney(1234.5, "USD")).toBe("$1,234.50");
    expect(formatMoney(3, "EUR", "de-DE")).toBe("3,00\u00a0€");
    expect(formatMoney(7, "NZD", "en-NZ")).toBe("$7.00");
    expect(formatMoney(7, "NZD", "en-US")).toBe("NZ$7.00");
    expect(formatMoneyList([], "USD")).toBe("$0.00");
    expect(
      formatMoneyList(
        [
          { amount: 20, currency: "USD" },
          { amount: 4, currency: "EUR" },
        ],
        "USD",
      ),
    ).toBe("$20.00 + €4.00");
  });
});

describe("agents", () => {
  it("are down when silent past their interval or reporting a down status", () => {
    const now = new Date("2026-03-11T21:00:00Z");
    const beat = (agent: string, minutesAgo: number, status: string | null = null) => ({
      agent,
      source: "s",
      status,
      detail: null,
      lastSeen: new Date(now.getTime() - minutesAgo * 60_000),
    });
    const states = agentStates([beat("a", 4), beat("b", 6), beat("c", 1, "ERROR"), beat("d", 50)], now, (agent) =>
      agent === "d" ? 3_600_000 : 300_000,
    );
    expect(states).toEqual([
      { name: "a", down: false, why: null },
      { name: "b", down: true, why: "silent 6m" },
      { name: "c", down: true, why: "reports ERROR" },
      { name: "d", down: false, why: null },
    ]);
  });
});

describe("digest view", () => {
  const now = new Date("2026-04-04T20:00:00Z");
  const base = {
    now,
    reader: { timezone: "Pacific/Auckland" },
    settings,
    since: new Date("2026-04-03T19:00:00Z"),
    done: 0,
    failed: [],
    stuck: [],
    spendYesterday: [],
    week: [],
    dead: [],
    agents: [],
    services: [],
    pending: [],
    pause: noPause,
  };

  it("an all-quiet night is one line", () => {
    const view = buildDigestView(base);
    expect(view.quiet).toBe(true);
    expect(r.render("digest", "plain", view)).toBe(
      "🌙 Digest · Sun 5 Apr: all quiet since Sat 4 Apr 08:00. Nothing to report.",
    );
  });

  it("leaves out empty sections, and a pause alone is news", () => {
    const view = buildDigestView({
      ...base,
      pause: { paused: true, by: "adam", at: new Date("2026-04-04T09:00:00Z") },
    });
    expect(view.quiet).toBe(false);
    expect(r.render("digest", "plain", view).split("\n")).toEqual([
      "☀️ Digest · Sun 5 Apr (since Sat 4 Apr 08:00)",
      "⏸ Autonomy paused by adam since Sat 4 Apr 22:00.",
    ]);
  });
});

describe("rendered per channel", () => {
  const task: Task = {
    id: "T-1",
    source: "forge",
    title: "Fix <script> & stuff",
    state: "failed",
    agent: "forge",
    priority: 0,
    attempts: 1,
    error: "exit 1 < 2",
    createdAt: new Date("2026-03-11T10:00:00Z"),
    updatedAt: new Date("2026-03-11T10:00:00Z"),
    stateSince: new Date("2026-03-11T10:00:00Z"),
  };
  const view = buildFailuresView({
    now: new Date("2026-03-11T12:00:00Z"),
    reader: { timezone: "UTC" },
    failed: { total: 7, tasks: [task] },
    dead: { total: 0, items: [] },
    services: [],
    agents: [],
  });

  it("Telegram HTML: bold tags, ids as code, user text escaped", () => {
    expect(r.render("failures", "html", view).split("\n")).toEqual([
      "<b>🚨 Failures</b>",
      "<b>Failed tasks:</b>",
      "• <code>T-1</code> Fix &lt;script&gt; &amp; stuff (forge): exit 1 &lt; 2 · 10:00",
      "…and 6 more",
    ]);
  });

  it("WhatsApp *bold* and plain text for the web chat", () => {
    expect(r.render("failures", "whatsapp", view).split("\n")[0]).toBe("*🚨 Failures*");
    expect(r.render("failures", "plain", view).split("\n")[2]).toBe(
      "• T-1 Fix <script> & stuff (forge): exit 1 < 2 · 10:00",
    );
  });

  it("nothing failed says so", () => {
    const empty = buildFailuresView({
      now: new Date(),
      reader: { timezone: "UTC" },
      failed: { total: 0, tasks: [] },
      dead: { total: 0, items: [] },
      services: [],
      agents: [],
    });
    expect(r.render("failures", "plain", empty)).toBe(
      "✅ No failures: no failed tasks, no dead letters, every service and agent up.",
    );
  });
});
