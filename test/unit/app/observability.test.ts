import { afterEach, describe, expect, it, vi } from "vitest";
import { createObservability, decidedByKind, howDecided, sendResult } from "../../../src/app/observability.js";
import { ChannelError, type Channel } from "../../../src/domain/channel.js";
import type { Logger } from "../../../src/logger.js";
import { captureLogger } from "../../fakes/capture-logger.js";
import { sampleValue } from "../../helpers/prometheus-text.js";

const log = () => {
  const captured = captureLogger();
  return { ...captured, logger: captured.logger as unknown as Logger };
};

afterEach(() => {
  vi.useRealTimers();
});

describe("decided by kind", () => {
  it("names the automatic ends, groups every operator as one label value, and a cancel as the source", () => {
    const at = (status: "approved" | "rejected" | "cancelled", decidedBy: string) => ({ status, decidedBy });
    expect(decidedByKind(at("approved", "policy"))).toBe("policy");
    expect(decidedByKind(at("approved", "objection-window"))).toBe("objection-window");
    expect(decidedByKind(at("rejected", "timeout"))).toBe("timeout");
    expect(decidedByKind(at("approved", "rule:5f0c"))).toBe("rule");
    expect(decidedByKind(at("approved", "adam"))).toBe("operator");
    expect(decidedByKind(at("rejected", "timeout-fan"))).toBe("operator"); // an operator's name, not a kind
    expect(decidedByKind(at("cancelled", "forge"))).toBe("source");
  });

  it("says how: the operator's channel, or the kind of automatic end", () => {
    const decision = { operator: "adam", verdict: "approve" as const, note: null, channel: "whatsapp", at: new Date() };
    expect(howDecided({ status: "approved", decidedBy: "adam" }, decision)).toBe("whatsapp");
    expect(howDecided({ status: "rejected", decidedBy: "timeout" }, null)).toBe("timeout");
    expect(howDecided({ status: "cancelled", decidedBy: "forge" }, null)).toBe("cancel");
  });
});

describe("outbox sends", () => {
  it("count ok, 429 (the platform said when to retry) and other errors by channel, and pass errors on", async () => {
    const o = createObservability(log().logger);
    const job = { op: "text" as const, channel: "telegram" as const, chatId: "1", text: "hi" };
    const failing = (error: unknown) =>
      o.countSends(async () => {
        throw error;
      });
    await o.countSends(async () => {})(job);
    const limited = new ChannelError("Too Many Requests", false, 3000);
    await expect(failing(limited)(job)).rejects.toBe(limited);
    await expect(failing(new ChannelError("blocked", true))(job)).rejects.toThrow("blocked");
    await expect(failing(new Error("ECONNRESET"))(job)).rejects.toThrow("ECONNRESET");
    const text = await o.metrics.registry.metrics();
    const sends = (result: string) => sampleValue(text, "signoff_outbox_sends_total", { channel: "telegram", result });
    expect([sends("ok"), sends("429"), sends("error")]).toEqual([1, 1, 2]);
    expect(sendResult(new ChannelError("flood", false, 1))).toBe("429");
  });
});

describe("channel watch", () => {
  it("logs connected once when a channel comes up and disconnected once when it goes down", () => {
    vi.useFakeTimers();
    const { logger, lines } = log();
    const o = createObservability(logger);
    let ok = false;
    const channel = { name: "telegram", health: () => ({ ok, detail: {} }) } as unknown as Channel;
    const stop = o.watchChannels(() => [channel], 100);
    const said = () => lines.filter((l) => l.msg?.startsWith("channel ")).map((l) => `${l.msg} ${l.obj.channel}`);
    vi.advanceTimersByTime(300);
    expect(said()).toEqual([]); // never up yet: nothing to say
    ok = true;
    vi.advanceTimersByTime(300);
    expect(said()).toEqual(["channel connected telegram"]);
    ok = false;
    vi.advanceTimersByTime(300);
    ok = true;
    vi.advanceTimersByTime(300);
    expect(said()).toEqual([
      "channel connected telegram",
      "channel disconnected telegram",
      "channel connected telegram",
    ]);
    expect(lines.filter((l) => l.msg?.startsWith("channel ")).every((l) => l.level === "info")).toBe(true);
    stop();
    ok = false;
    vi.advanceTimersByTime(300);
    expect(said()).toHaveLength(3);
  });
});
