/**
 * What a card says about a tool's request: its action, the first 8 hex digits of its payload's
 * SHA-256 (so an approver can compare it with what the tool shows) and on whose behalf it asks;
 * nothing of the kind when the request has none, so the card stays short.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { Approval } from "../../../../src/domain/approval.js";
import type { ChannelName } from "../../../../src/domain/channel.js";
import { createCardPresenter } from "../../../../src/handlers/approvals/card-presenter.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { approvalFixture } from "../../../helpers/approval-fixture.js";

const presenter = createCardPresenter({
  directory: createOperatorDirectory([{ name: "eve", roles: ["approver"], webchat: true }], "UTC", PLATFORMS),
  channels: new Map(),
  renderer: createRenderer(PLATFORMS),
  chat: { saveCardRef: async () => undefined, listCardRefs: async () => [] },
  approvals: { get: async () => null, confirmNoticeDelivered: async () => new Date() },
  enqueue: async () => undefined,
  defaultTimezone: "UTC",
  now: () => new Date("2030-01-01T00:00:00Z"),
});

const DIGEST = "3f9a1c02d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f";
const tool: Partial<Approval> = {
  action: "deploy:staging",
  payload: { ref: "v1" },
  payloadSha256: DIGEST,
  requestedBy: "eve",
};
const card = (over: Partial<Approval>, channel: ChannelName = "webchat") =>
  presenter.renderCard(approvalFixture(over), channel).text.split("\n");

describe("a tool's request on its card", () => {
  it("shows the action with the payload digest's first 8 hex digits, and who asked", () => {
    const lines = card(tool);
    expect(lines).toContain("Action: deploy:staging · payload 3f9a1c02");
    expect(lines).toContain("Asked by: eve");
    expect(lines.join("\n")).not.toContain(DIGEST.slice(0, 9));
  });

  it("sets the action and digest apart on Telegram, where they can be copied", () => {
    expect(card(tool, "telegram")).toContain(
      "<b>Action:</b> <code>deploy:staging</code> · payload <code>3f9a1c02</code>",
    );
  });

  it("shows the payload digest even without an action", () => {
    expect(card({ payload: [1, 2], payloadSha256: DIGEST })).toContain("Payload: 3f9a1c02");
  });

  it("says nothing of actions, payloads or requesters when the request has none", () => {
    const plain = card({});
    expect(plain.join("\n")).not.toMatch(/Action|Payload|payload|Asked by/);
    expect(plain.length).toBe(card({ agent: null }).length);
  });

  it("shows the same on a low request's notice", () => {
    const notice = createRenderer(PLATFORMS).render("objection-notice", "plain", {
      code: "K7QF",
      title: "restart",
      seconds: 30,
      proceedsAt: "09:14",
      action: "Bash",
      payload: "3f9a1c02",
      requestedBy: "eve",
    });
    expect(notice.split("\n")).toEqual(expect.arrayContaining(["Action: Bash · payload 3f9a1c02", "Asked by: eve"]));
  });
});
