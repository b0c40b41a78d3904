/**
 * The escalation ladder end to end on Telegram (the fake Bot API): an ops lead may not answer a
 * request for approvers until it has waited `afterSeconds` unanswered; then they get the card
 * (saying why), can approve it, and the step is audited. A ladder nobody could climb is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { startFakeBotApi, type FakeBotApi } from "../fakes/fake-bot-api.js";
import { api, cleanupTestInstance, eventually } from "../helpers/harness.js";
import { cardIn, startTelegramSignoff } from "../helpers/telegram-signoff.js";

const ADAM = 1001;
const OLGA = 1003;
const OPERATORS = [
  { name: "adam", roles: ["owner", "approver"], timezone: "UTC", telegram: String(ADAM) },
  { name: "olga", roles: ["ops-lead"], timezone: "UTC", telegram: String(OLGA) },
];

let fake: FakeBotApi;
let s: Signoff & { schema: string; prefix: string };
beforeAll(async () => {
  fake = await startFakeBotApi();
  s = await startTelegramSignoff(fake, { file: { operators: OPERATORS, approvals: { remindAt: [] } } });
});
afterAll(async () => {
  await s?.close();
  await fake?.close();
  if (s) await cleanupTestInstance(s.schema, s.prefix);
});

describe("escalation", () => {
  it("adds the next role after afterSeconds unanswered: they get the card, may approve, and it is audited", async () => {
    const createdAt = Date.now();
    const a = (
      await api(s, "POST", "/api/approvals", {
        title: "Rotate prod keys",
        reason: "quarterly",
        gate: "medium",
        deadlineSeconds: 120,
        approvers: { roles: ["approver"], escalate: [{ afterSeconds: 2, roles: ["ops-lead"] }] },
      })
    ).body;
    expect(a.approvers).toMatchObject({ escalate: [{ afterSeconds: 2, roles: ["ops-lead"] }], escalationLevel: 0 });
    const adamCard = await cardIn(fake, ADAM, a.code);

    // Before the step, olga may not answer, and has no card.
    fake.userSendsText({ chatId: OLGA, text: `approve ${a.code}` });
    await eventually(
      async () => (await s.audit.listBySubject(a.id)).some((e) => e.action === "approval.answer_refused"),
      "olga's early answer refused",
    );
    expect((await s.service.get(a.id))?.status).toBe("pending");

    const olgaCard = await cardIn(fake, OLGA, a.code);
    expect(Date.now() - createdAt).toBeGreaterThanOrEqual(1_900);
    expect(olgaCard.text).toContain("⤴️ Escalated to ops-lead after 2s unanswered");
    const escalated = (await s.audit.listBySubject(a.id)).find((e) => e.action === "approval.escalated");
    expect(escalated?.data).toMatchObject({ reason: "unanswered", step: 1, roles: ["ops-lead"] });
    // The card already shown is edited to say who was added and why.
    await eventually(
      () => fake.sent(ADAM).find((m) => m.messageId === adamCard.messageId && m.text.includes("Escalated to ops-lead")),
      "adam's card edited",
    );

    const approve = olgaCard.replyMarkup!.inline_keyboard.flat()[0]! as { callback_data: string };
    fake.userPressesButton({ chatId: OLGA, messageId: olgaCard.messageId, data: approve.callback_data });
    const decided = await eventually(async () => {
      const r = await s.service.get(a.id);
      return r?.status === "approved" ? r : null;
    }, "olga's approval");
    expect(decided.decidedBy).toBe("olga");
    expect(decided.escalationLevel).toBe(1);
    expect(olgaCard.text).toContain("Rotate prod keys");
  }, 30_000);

  it("refuses a ladder whose roles nobody holds, naming the step", async () => {
    const res = await api(s, "POST", "/api/approvals", {
      title: "nobody to climb to",
      gate: "medium",
      approvers: { escalate: [{ afterSeconds: 60, roles: ["no-such-role"] }] },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("approvers.escalate.0.roles");
  });
});
