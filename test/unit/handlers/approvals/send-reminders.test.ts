/** Reminders follow the same routing as cards: around absences to the delegate, silent in quiet hours. */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { createReminderSender } from "../../../../src/handlers/approvals/send-reminders.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { approvalFixture } from "../../../helpers/approval-fixture.js";

const NOW = new Date("2026-12-01T12:00:00Z");

function sender(
  operators: Parameters<typeof createOperatorDirectory>[0],
  away: Array<{ operator: string; delegate: string | null; until: Date }> = [],
) {
  const sent: OutboxJob[] = [];
  const remind = createReminderSender({
    directory: createOperatorDirectory(operators, "UTC", PLATFORMS),
    channels: new Map([["telegram", {}]]),
    renderer: createRenderer(PLATFORMS),
    chat: { listCardRefs: async () => [] },
    enqueue: async (job) => {
      sent.push(job);
    },
    absences: async () => away,
    now: () => NOW,
  });
  return { remind, sent };
}

const waiting = () =>
  approvalFixture({
    status: "pending",
    gate: "medium",
    effectiveGate: "medium",
    createdAt: new Date(NOW.getTime() - 60_000),
    deadlineAt: new Date(NOW.getTime() + 3_600_000),
    decisions: [],
  });

describe("reminders", () => {
  it("go to an away approver's delegate, not to them", async () => {
    const { remind, sent } = sender(
      [
        { name: "eve", roles: ["approver"], telegram: "1002", webchat: true },
        { name: "bob", roles: ["viewer"], telegram: "1003", webchat: true },
      ],
      [{ operator: "eve", delegate: "bob", until: new Date(NOW.getTime() + 86_400_000) }],
    );
    expect(await remind(waiting())).toBe(1);
    expect(sent.map((j) => (j as { chatId: string }).chatId)).toEqual(["1003"]);
  });

  it("arrive silently in the reader's quiet hours, and ring outside them", async () => {
    const { remind, sent } = sender([
      { name: "eve", roles: ["approver"], telegram: "1002", webchat: true, quietHours: "11:00-13:00" },
      { name: "adam", roles: ["approver"], telegram: "1001", webchat: true, quietHours: "22:00-07:00" },
    ]);
    await remind(waiting());
    const byChat = new Map(sent.map((j) => [(j as { chatId: string }).chatId, (j as { silent?: boolean }).silent]));
    expect(byChat.get("1002")).toBe(true);
    expect(byChat.get("1001")).toBeUndefined();
  });
});
