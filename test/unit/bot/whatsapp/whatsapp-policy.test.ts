import { DisconnectReason } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CONNECTION_POLICY,
  classifyDisconnect,
  disconnectReasonName,
  reconnectDelayMs,
} from "../../../../src/bot/whatsapp/whatsapp-policy.js";

describe("whatsapp disconnect policy", () => {
  it("maps each DisconnectReason to its action", () => {
    expect(classifyDisconnect(DisconnectReason.loggedOut)).toBe("logged-out");
    expect(classifyDisconnect(401)).toBe("logged-out");
    expect(classifyDisconnect(DisconnectReason.connectionReplaced)).toBe("replaced");
    expect(classifyDisconnect(440)).toBe("replaced");
    expect(classifyDisconnect(DisconnectReason.restartRequired)).toBe("restart");
    expect(classifyDisconnect(515)).toBe("restart");
    for (const code of [428, 408, 500, 503, 411, 403, 405, undefined]) {
      expect(classifyDisconnect(code), `code ${code}`).toBe("reconnect");
    }
  });

  it("names codes for logs", () => {
    expect(disconnectReasonName(428)).toBe("connectionClosed");
    expect(disconnectReasonName(515)).toBe("restartRequired");
    expect(disconnectReasonName(999)).toBe("status 999");
    expect(disconnectReasonName(undefined)).toBe("unknown");
  });

  it("backs off exponentially from 2 s to a 60 s ceiling, with jitter within each step", () => {
    const top = Array.from({ length: 10 }, (_, n) => reconnectDelayMs(n, DEFAULT_CONNECTION_POLICY, 1));
    expect(top).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000, 60_000]);
    const bottom = Array.from({ length: 7 }, (_, n) => reconnectDelayMs(n, DEFAULT_CONNECTION_POLICY, 0));
    expect(bottom).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    for (let n = 0; n < 200; n++) {
      const d = reconnectDelayMs(n, DEFAULT_CONNECTION_POLICY, Math.random());
      expect(d).toBeGreaterThanOrEqual(1_000);
      expect(d).toBeLessThanOrEqual(60_000);
    }
    expect(reconnectDelayMs(10_000, DEFAULT_CONNECTION_POLICY, 0.5)).toBe(45_000); // huge attempt counts stay finite
  });
});
