/**
 * A decided card keeps what was asked (what, why, agent, risk, code) and says what became of it
 * in the words a person uses, for every way a request can end; and it loses its buttons.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { Approval } from "../../../../src/domain/approval.js";
import { createCardPresenter } from "../../../../src/handlers/approvals/card-presenter.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { approvalFixture } from "../../../helpers/approval-fixture.js";

const NOW = new Date("2030-01-01T13:05:00Z");
const presenter = createCardPresenter({
  directory: createOperatorDirectory([{ name: "eve", roles: ["approver"], webchat: true }], "UTC", PLATFORMS),
  channels: new Map(),
  renderer: createRenderer(PLATFORMS),
  chat: { saveCardRef: async () => undefined, listCardRefs: async () => [] },
  approvals: { get: async () => null, confirmNoticeDelivered: async () => new Date() },
  enqueue: async () => undefined,
  defaultTimezone: "UTC",
  now: () => NOW,
});

const asked: Partial<Approval> = {
  title: "Deploy api v2.3",
  reason: "release train 42",
  agent: "ci-bot",
};

function decidedCard(over: Partial<Approval>) {
  const message = presenter.renderCard(approvalFixture({ ...asked, ...over }), "webchat");
  return { lines: message.text.split("\n"), text: message.text, buttons: message.buttons ?? [] };
}

const nineFourteen = new Date("2030-01-01T09:14:00Z");
const CASES: Array<[string, Partial<Approval>, string]> = [
  [
    "an operator's approval",
    { status: "approved", decidedBy: "adam", decidedAt: nineFourteen },
    "✅ Approved by adam at 09:14 · K7QF",
  ],
  [
    "an operator's approval with a note",
    { status: "approved", decidedBy: "adam", decidedAt: nineFourteen, note: "ship it" },
    "✅ Approved by adam at 09:14: ship it · K7QF",
  ],
  [
    "a low request's silent window",
    {
      gate: "low",
      effectiveGate: "low",
      status: "approved",
      decidedBy: "objection-window",
      decidedAt: nineFourteen,
      objectionSeconds: 10,
      deadlineAt: null,
    },
    "✅ Approved automatically after 10s with no objection · K7QF",
  ],
  [
    "a passed deadline that denies",
    { status: "rejected", decidedBy: "timeout", decidedAt: new Date("2030-01-01T13:00:00Z") },
    "⌛ Expired at 13:00 with no answer — denied · K7QF",
  ],
  [
    "a passed deadline that approves (onTimeout approve)",
    { status: "approved", decidedBy: "timeout", decidedAt: new Date("2030-01-01T13:00:00Z"), onTimeout: "approve" },
    "⌛ Expired at 13:00 with no answer — approved · K7QF",
  ],
  [
    "the source's cancel",
    { status: "cancelled", decidedBy: "forge", decidedAt: nineFourteen },
    "🚫 Cancelled by forge · K7QF",
  ],
  [
    "a request for changes",
    { status: "changes_requested", decidedBy: "eve", decidedAt: nineFourteen, note: "use staging first" },
    "📝 Changes requested by eve: use staging first · K7QF",
  ],
  [
    "a rejection",
    { status: "rejected", decidedBy: "eve", decidedAt: nineFourteen, note: "too risky" },
    "❌ Rejected by eve at 09:14: too risky · K7QF",
  ],
  [
    "a standing rule",
    { status: "approved", decidedBy: "rule:12", decidedAt: nineFourteen },
    "✅ Approved by rule 12 · K7QF",
  ],
  [
    "the auto gate",
    { gate: "auto", effectiveGate: "auto", status: "approved", decidedBy: "policy", decidedAt: nineFourteen },
    "✅ Approved automatically (auto gate) · K7QF",
  ],
];

describe("a decided card", () => {
  it.each(CASES)("after %s says so in words and keeps what was asked", (_what, over, headline) => {
    const card = decidedCard(over);
    expect(card.lines[0]).toBe(headline);
    expect(card.lines).toContain("What: Deploy api v2.3");
    expect(card.lines).toContain("Why: release train 42");
    expect(card.lines).toContain("Agent: ci-bot");
    expect(card.lines.some((l) => l.startsWith("Risk: "))).toBe(true);
    expect(card.text).not.toMatch(/objection-window|by timeout|by policy|rule:/);
    expect(card.buttons).toEqual([]);
  });

  it("shows the votes of a quorum and the escalation that brought more approvers", () => {
    const card = decidedCard({
      status: "approved",
      decidedBy: "eve",
      decidedAt: nineFourteen,
      quorum: 2,
      decisions: [
        { operator: "adam", verdict: "approve", note: null, channel: "webchat", at: nineFourteen },
        { operator: "eve", verdict: "approve", note: null, channel: "webchat", at: nineFourteen },
      ],
      escalation: [{ afterSeconds: 600, roles: ["ops-lead"] }],
      escalationLevel: 1,
    });
    expect(card.lines).toContain("Approvals: 2/2 (adam, eve)");
    expect(card.lines).toContain("⤴️ Escalated to ops-lead after 10m unanswered");
  });

  it("bolds the outcome on Telegram and escapes what the source wrote", () => {
    const message = presenter.renderCard(
      approvalFixture({ title: "drop <db>", status: "rejected", decidedBy: "timeout", decidedAt: nineFourteen }),
      "telegram",
    );
    expect(message.text.split("\n")[0]).toBe("<b>⌛ Expired at 09:14 with no answer — denied · K7QF</b>");
    expect(message.text).toContain("drop &lt;db&gt;");
  });
});
