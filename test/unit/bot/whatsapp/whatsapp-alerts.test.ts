/**
 * What the owners read about the WhatsApp connection, and the outage watch on a fake clock:
 * one alert per outage after the delay, "connected again" only after that alert.
 */
import { describe, expect, it } from "vitest";
import {
  alertMinutes,
  alertText,
  createAlertSender,
  createOutageWatch,
} from "../../../../src/bot/whatsapp/whatsapp-alerts.js";
import type { WhatsAppAlert } from "../../../../src/bot/whatsapp/whatsapp-policy.js";
import { captureLogger } from "../../../fakes/capture-logger.js";
import { createFakeClock, settle } from "../../../fakes/fake-baileys-socket.js";

const MIN = 60_000;

describe("whatsapp alert texts", () => {
  it("says what happened and what to do", () => {
    expect(alertText({ kind: "logged-out" })).toBe(
      "⚠️ WhatsApp was logged out (the linked device was removed), so signoff stopped using it and cleared its session. Link it again with `signoff whatsapp login`, then restart signoff.",
    );
    expect(alertText({ kind: "replaced" })).toBe(
      "⚠️ WhatsApp: another client took over this session (connection replaced), so signoff stopped using it. Restart signoff to take it back.",
    );
    expect(alertText({ kind: "outage", minutes: 10, reason: "connectionLost" })).toBe(
      "⚠️ WhatsApp has been disconnected for 10 min (last: connectionLost); signoff keeps retrying.",
    );
    expect(alertText({ kind: "outage", minutes: 10, reason: null })).toBe(
      "⚠️ WhatsApp has been disconnected for 10 min; signoff keeps retrying.",
    );
    expect(alertText({ kind: "recovered", minutes: 12 })).toBe("✅ WhatsApp is connected again after 12 min.");
  });

  it("counts whole minutes, never 0", () => {
    expect(alertMinutes(0)).toBe(1);
    expect(alertMinutes(89_999)).toBe(1);
    expect(alertMinutes(90_000)).toBe(2);
    expect(alertMinutes(10 * MIN)).toBe(10);
  });
});

describe("whatsapp alert sender", () => {
  it("passes the text and the detail to the hook", async () => {
    const got: Array<[string, WhatsAppAlert]> = [];
    const send = createAlertSender({ alert: (text, alert) => void got.push([text, alert]) }, captureLogger().logger);
    send({ kind: "replaced" });
    await settle();
    expect(got).toEqual([[alertText({ kind: "replaced" }), { kind: "replaced" }]]);
  });

  it("logs a hook that throws or rejects, and never throws itself", async () => {
    const log = captureLogger();
    const throwing = createAlertSender(
      {
        alert: () => {
          throw new Error("telegram down");
        },
      },
      log.logger,
    );
    const rejecting = createAlertSender({ alert: async () => Promise.reject(new Error("timeout")) }, log.logger);
    expect(() => throwing({ kind: "logged-out" })).not.toThrow();
    expect(() => rejecting({ kind: "logged-out" })).not.toThrow();
    await settle();
    const failures = log.lines.filter((l) => l.msg === "whatsapp alert could not be sent");
    expect(failures.map((l) => l.obj.error)).toEqual(["telegram down", "timeout"]);
  });
});

function watch(options: { alertAfterMs?: number; stillDown?: () => boolean } = {}) {
  const clock = createFakeClock();
  const sent: WhatsAppAlert[] = [];
  const outage = createOutageWatch({
    clock,
    alertAfterMs: options.alertAfterMs ?? 10 * MIN,
    send: (alert) => void sent.push(alert),
    stillDown: options.stillDown ?? (() => true),
    lastReason: () => "connectionClosed",
  });
  return { clock, sent, outage };
}

describe("whatsapp outage watch", () => {
  it("alerts once, after the delay from the start of the outage, then says when it is back", async () => {
    const { clock, sent, outage } = watch();
    outage.down();
    const began = clock.now();
    expect(outage.since()).toBe(began);
    await clock.advance(4 * MIN);
    outage.down(); // another failed reconnect in the same outage: the clock does not restart
    expect(outage.since()).toBe(began);
    await clock.advance(6 * MIN - 1);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([{ kind: "outage", minutes: 10, reason: "connectionClosed" }]);
    await clock.advance(60 * MIN);
    expect(sent).toHaveLength(1);
    await clock.advance(5 * MIN);
    outage.up();
    expect(outage.since()).toBeNull();
    expect(sent[1]).toEqual({ kind: "recovered", minutes: 75 });
  });

  it("says nothing when the connection is back before the delay", async () => {
    const { clock, sent, outage } = watch();
    outage.begin();
    await clock.advance(9 * MIN);
    outage.up();
    await clock.advance(60 * MIN);
    expect(sent).toEqual([]);
    expect(clock.pending()).toEqual([]);
  });

  it("begin() starts a new outage even while one runs", async () => {
    const { clock, sent, outage } = watch();
    outage.begin();
    await clock.advance(5 * MIN);
    outage.begin();
    expect(outage.since()).toBe(clock.now());
    await clock.advance(5 * MIN);
    expect(sent).toEqual([]);
    await clock.advance(5 * MIN);
    expect(sent).toEqual([{ kind: "outage", minutes: 10, reason: "connectionClosed" }]);
  });

  it("stays silent when the outage is no longer news, when cancelled, or when disabled", async () => {
    let down = false;
    const quiet = watch({ stillDown: () => down });
    quiet.outage.down();
    await quiet.clock.advance(10 * MIN);
    expect(quiet.sent).toEqual([]);
    quiet.outage.up(); // no outage alert went out, so no "connected again" either
    expect(quiet.sent).toEqual([]);
    down = true;

    const cancelled = watch();
    cancelled.outage.down();
    cancelled.outage.cancel();
    await cancelled.clock.advance(60 * MIN);
    expect(cancelled.sent).toEqual([]);
    expect(cancelled.outage.since()).not.toBeNull(); // the status still shows when it went down

    const disabled = watch({ alertAfterMs: 0 });
    disabled.outage.down();
    expect(disabled.clock.pending()).toEqual([]);
    await disabled.clock.advance(60 * MIN);
    expect(disabled.sent).toEqual([]);
  });
});
