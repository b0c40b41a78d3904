/**
 * Quiet hours end to end: an operator whose quiet hours end a few seconds after the start gets
 * their cards at once but silently (Telegram `disable_notification`), while their digest, notices
 * and non-critical source notices wait in the outbox and arrive when the quiet hours end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { startTelegramSignoff } from "../helpers/telegram-signoff.js";
import { api, cleanupTestInstance, eventually } from "../helpers/harness.js";

const ADAM = 1001; // owner, never quiet
const QUINN = 1005; // the only one holding "night"; in quiet hours until `quietEnd`
const ZONE = "America/New_York";

let fake: FakeBotApi;
let s: Signoff & { schema: string; prefix: string };
let quietEnd: number;

/** "HH:MM" of `date` in ZONE. */
function clockIn(date: Date): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(date);
}

/** Quiet hours that began two minutes ago and end at the next whole minute at least 8 s away. */
function quietHoursEndingSoon(): { range: string; end: number } {
  const now = Date.now();
  let end = Math.ceil(now / 60_000) * 60_000;
  if (end - now < 8_000) end += 60_000;
  return { range: `${clockIn(new Date(now - 120_000))}-${clockIn(new Date(end))}`, end };
}

beforeAll(async () => {
  fake = await startFakeBotApi();
  const quiet = quietHoursEndingSoon();
  quietEnd = quiet.end;
  s = await startTelegramSignoff(fake, {
    file: {
      operators: [
        { name: "adam", roles: ["owner", "approver"], timezone: "Pacific/Auckland", telegram: String(ADAM) },
        {
          name: "quinn",
          roles: ["approver", "night"],
          timezone: ZONE,
          telegram: String(QUINN),
          quietHours: quiet.range,
          // Its latest slot is within the grace, so the start's catch-up sends it: in quiet hours.
          digest: "0 3 * * *",
        },
      ],
      digests: { graceSeconds: 86_400 },
    },
  });
}, 30_000);
afterAll(async () => {
  await s?.close();
  await fake?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

const sendsTo = (chat: number) => fake.callsTo("sendMessage").filter((c) => String(c.params.chat_id) === String(chat));
const textsIn = (chat: number) => fake.sent(chat).map((m) => m.text);
const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;

describe("quiet hours", () => {
  it("cards arrive silently, a critical notice rings; digest, low notice and info notice wait until the quiet hours end", async () => {
    expect(quietEnd - Date.now(), "the quiet hours are still on").toBeGreaterThan(3_000);
    /** A request only quinn (role "night") can answer. */
    const night = async (title: string, more: Record<string, unknown>) =>
      (await api(s, "POST", "/api/approvals", { title, approvers: { roles: ["night"] }, ...more })).body;
    const card = await night("night deploy", { gate: "medium" });
    const forAll = (await api(s, "POST", "/api/approvals", { title: "day deploy", gate: "medium" })).body;
    const lowLong = await night("rotate night logs", { gate: "low", objectionSeconds: 150 });
    const lowShort = await night("flush night cache", { gate: "low", objectionSeconds: 2 });
    const notify = (text: string, severity: string) => api(s, "POST", "/api/notify", { text, severity });
    expect((await notify("nightly backup took long", "info")).status).toBe(202);
    expect((await notify("primary database down", "critical")).status).toBe(202);

    // Cards now, silently, to the quiet reader; the same kind of card to adam rings.
    const silent = await eventually(
      () => sendsTo(QUINN).find((c) => String(c.params.text).includes(card.code)),
      "the night card",
      15_000,
    );
    expect(silent.params.disable_notification).toBe(true);
    const toAdam = await eventually(
      () => sendsTo(ADAM).find((c) => String(c.params.text).includes(forAll.code)),
      "adam's card",
      15_000,
    );
    expect(toAdam.params.disable_notification).toBeUndefined();
    const critical = await eventually(
      () => sendsTo(QUINN).find((c) => String(c.params.text).includes("primary database down")),
      "the critical notice",
      15_000,
    );
    expect(critical.params.disable_notification).toBeUndefined();
    // Adam is not in quiet hours: the info notice reaches him at once.
    await eventually(() => textsIn(ADAM).some((t) => t.includes("nightly backup took long")), "info to adam", 15_000);

    // Nobody saw the short low request's notice within its window: it needs a person now (a silent card).
    await eventually(async () => (await record(lowShort.id)).effectiveGate === "medium", "escalated", 15_000);
    const escalatedCard = await eventually(
      () => sendsTo(QUINN).find((c) => String(c.params.text).includes(lowShort.code)),
      "card of the escalated request",
      15_000,
    );
    expect(escalatedCard.params.disable_notification).toBe(true);

    // Still quiet: the digest, the long low notice and the info notice wait.
    expect(Date.now()).toBeLessThan(quietEnd);
    const quinn = () => textsIn(QUINN);
    expect(quinn().some((t) => t.includes(lowLong.code))).toBe(false);
    expect(quinn().some((t) => t.includes("nightly backup took long"))).toBe(false);
    expect(quinn().some((t) => /digest/i.test(t))).toBe(false);
    expect((await record(lowLong.id)).noticeDeliveredAt).toBeNull();

    // The quiet hours end: everything held arrives, with sound.
    await eventually(
      () => quinn().some((t) => t.includes(lowLong.code)),
      "the held notice",
      quietEnd - Date.now() + 15_000,
    );
    await eventually(() => quinn().some((t) => t.includes("nightly backup took long")), "the held info notice", 15_000);
    await eventually(() => quinn().some((t) => /digest/i.test(t)), "the held digest", 15_000);
    const released = sendsTo(QUINN).filter((c) => c.at >= quietEnd - 1_000);
    expect(released.length).toBeGreaterThanOrEqual(3);
    for (const c of released) expect(c.params.disable_notification).toBeUndefined();
    // Its window counts from the delivery, so it is still waiting for objections.
    const seen = await record(lowLong.id);
    expect(seen.status).toBe("pending");
    expect(new Date(seen.noticeDeliveredAt).getTime()).toBeGreaterThanOrEqual(quietEnd - 1_000);
    // The escalated request already had its card: its held notice says nothing more.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sendsTo(QUINN).filter((c) => String(c.params.text).includes(lowShort.code))).toHaveLength(1);
  }, 120_000);
});
