/**
 * The connection policy through the real adapter: a fake socket per connection, a fake clock,
 * in-memory session stores. Each disconnect reason must lead to its action.
 */
import { afterEach, describe, expect, it } from "vitest";
import { serializeCreds } from "../../../../src/bot/whatsapp/whatsapp-auth-state.js";
import {
  createWhatsAppChannel,
  type WhatsAppChannel,
  type WhatsAppLease,
} from "../../../../src/bot/whatsapp/whatsapp-channel.js";
import { captureLogger } from "../../../fakes/capture-logger.js";
import {
  createFakeBaileys,
  createFakeClock,
  createMemoryWhatsAppStores,
  linkedCreds,
  settle,
  textMessage,
} from "../../../fakes/fake-baileys-socket.js";

const MIN = 60_000;

async function setup(options: { linked?: boolean; pairingPhone?: string; lease?: WhatsAppLease } = {}) {
  const stores = createMemoryWhatsAppStores();
  if (options.linked !== false) await stores.authStore.saveCreds(serializeCreds(linkedCreds()));
  const wa = createFakeBaileys();
  const clock = createFakeClock();
  const log = captureLogger();
  const alerts: string[] = [];
  const channel = createWhatsAppChannel({
    authStore: stores.authStore,
    messageStore: stores.messageStore,
    logger: log.logger,
    makeSocket: wa.makeSocket,
    clock,
    random: () => 1, // the top of each backoff step: 2 s, 4 s, 8 s …
    onAlert: (text) => void alerts.push(text),
    pairingPhone: options.pairingPhone,
    lease: options.lease,
    policy: { watchdogMs: 20 * MIN, outageAlertMs: 10 * MIN, stableAfterMs: MIN, leaseRetryMs: 5_000 },
  });
  await channel.start(async () => undefined);
  await settle();
  started.push(channel);
  return { stores, wa, clock, log, alerts, channel };
}

const started: WhatsAppChannel[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await c.stop();
});

describe("whatsapp connection policy", () => {
  it("515 restartRequired reconnects at once, without waiting", async () => {
    const { wa, channel } = await setup();
    wa.latest().open();
    wa.latest().close(515);
    await settle();
    expect(wa.sockets).toHaveLength(2);
    expect(channel.status().reconnectAttempts).toBe(0);
    wa.latest().open();
    expect(channel.health().ok).toBe(true);
  });

  it("other reasons back off exponentially (2 s, 4 s, 8 s … 60 s) and never give up", async () => {
    const { wa, clock, channel } = await setup();
    wa.latest().open();
    wa.latest().close(428);
    await settle();
    expect(channel.status().state).toBe("waiting");
    await clock.advance(1_999);
    expect(wa.sockets).toHaveLength(1);
    await clock.advance(1);
    expect(wa.sockets).toHaveLength(2);

    const delays: number[] = [];
    for (const code of [408, 500, 503, 428, 411, 403, 428, undefined]) {
      wa.latest().close(code);
      await settle();
      delays.push(clock.pending()[0]!);
      await clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(wa.sockets).toHaveLength(10);
    expect(channel.status().reconnectAttempts).toBe(9);
  });

  it("a connection that stayed up resets the backoff", async () => {
    const { wa, clock } = await setup();
    for (let i = 0; i < 3; i++) {
      wa.latest().close(428);
      await settle();
      await clock.advance(clock.pending()[0]!);
    }
    wa.latest().open();
    await clock.advance(MIN);
    wa.latest().close(428);
    await settle();
    expect(clock.pending()[0]).toBe(2_000);
  });

  it("401 loggedOut stops, clears the session and alerts the owners", async () => {
    const { wa, clock, channel, stores, alerts } = await setup();
    wa.latest().open();
    expect(stores.creds().current).not.toBeNull();
    wa.latest().close(401);
    await settle();
    expect(channel.status().state).toBe("logged-out");
    expect(stores.creds().current).toBeNull();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(/logged out/);
    expect(alerts[0]).toMatch(/signoff whatsapp login/);
    await clock.advance(60 * MIN);
    expect(wa.sockets).toHaveLength(1);
    expect(alerts).toHaveLength(1);
    expect(channel.health()).toMatchObject({ ok: false, detail: { loggedOut: true, connected: false } });
  });

  it("440 connectionReplaced stops and alerts, keeping the session", async () => {
    const { wa, clock, channel, stores, alerts } = await setup();
    wa.latest().open();
    wa.latest().close(440);
    await settle();
    expect(channel.status().state).toBe("replaced");
    expect(alerts).toEqual([expect.stringMatching(/another client took over/)]);
    await clock.advance(60 * MIN);
    expect(wa.sockets).toHaveLength(1);
    expect(stores.creds().current).not.toBeNull();
    expect(channel.health().ok).toBe(false);
  });

  it("a 401 before the device was ever linked is a failed login: start over, no alert", async () => {
    const { wa, clock, channel, alerts } = await setup({ linked: false });
    wa.latest().close(401);
    await settle();
    expect(channel.status().state).toBe("waiting");
    await clock.advance(2_000);
    expect(wa.sockets).toHaveLength(2);
    expect(alerts).toEqual([]);
  });

  it("the watchdog replaces a socket that is open but silent", async () => {
    const { wa, clock } = await setup();
    const first = wa.latest();
    first.open();
    await clock.advance(15 * MIN);
    first.emit("message-receipt.update", []); // still alive: the silence starts again
    await clock.advance(19 * MIN);
    expect(wa.sockets).toHaveLength(1);
    await clock.advance(1 * MIN);
    expect(first.ended).toBe(true);
    expect(wa.sockets).toHaveLength(2);
  });

  it("alerts once after a long outage, and again when it is over", async () => {
    const { wa, clock, alerts } = await setup();
    wa.latest().open();
    wa.latest().close(428);
    for (let t = 0; t < 11 * MIN; t += 60_000) {
      await clock.advance(60_000);
      if (!wa.latest().ended) wa.latest().close(503);
    }
    expect(alerts).toEqual([expect.stringMatching(/disconnected for 10 min.*keeps retrying/)]);
    await clock.advance(2 * MIN);
    wa.latest().open();
    await settle();
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatch(/connected again/);
  });

  it("asks for a pairing code once per socket, when the socket is ready (first QR)", async () => {
    const { wa, clock, log } = await setup({ linked: false, pairingPhone: "64200000001" });
    expect(wa.latest().pairingRequests).toEqual([]);
    wa.latest().qr("2@ref-one");
    wa.latest().qr("2@ref-two");
    await settle();
    expect(wa.latest().pairingRequests).toEqual(["64200000001"]);
    expect(log.lines.some((l) => l.obj.pairingCode === "ABCD1234")).toBe(true);
    wa.latest().close(408); // QR refs ran out
    await clock.advance(2_000);
    wa.latest().qr("2@ref-three");
    await settle();
    expect(wa.sockets.map((s) => s.pairingRequests.length)).toEqual([1, 1]);
  });

  it("logs the QR as text when no pairing phone is set", async () => {
    const { wa, log } = await setup({ linked: false });
    wa.latest().qr("2@qr-text,abc");
    expect(wa.latest().pairingRequests).toEqual([]);
    expect(log.lines.find((l) => l.obj.qr === "2@qr-text,abc")?.level).toBe("warn");
  });

  it("persists creds updates of a linked device, never of an unfinished login", async () => {
    const linked = await setup();
    const before = linked.stores.authStore.writes;
    linked.wa.latest().emit("creds.update", { nextPreKeyId: 42 });
    await settle();
    expect(linked.stores.authStore.writes).toBe(before + 1);
    expect(JSON.parse(linked.stores.creds().current!).nextPreKeyId).toBe(42);

    const unlinked = await setup({ linked: false, pairingPhone: "64200000001" });
    unlinked.wa.latest().emit("creds.update", { me: { id: "64200000001@s.whatsapp.net", name: "~" } });
    await settle();
    expect(unlinked.stores.creds().current).toBeNull();
    // pairing succeeded: now it is linked and written
    unlinked.wa
      .latest()
      .emit("creds.update", { account: linkedCreds().account!, me: { id: "64200000001:3@s.whatsapp.net" } });
    await settle();
    expect(unlinked.stores.creds().current).toContain("64200000001:3@s.whatsapp.net");
  });

  it("health stays ok for a short reconnect, then says what is wrong", async () => {
    const { wa, clock, channel } = await setup();
    wa.latest().open();
    wa.latest().deliver([textMessage("64211234567", "hi")]);
    await settle();
    expect(channel.health()).toMatchObject({
      ok: true,
      detail: { connected: true, loggedOut: false, leaseHeld: true },
    });
    expect(channel.health().detail.lastMessageAt).toBe(new Date(clock.now()).toISOString());
    wa.latest().close(428);
    await settle();
    expect(channel.health()).toMatchObject({ ok: true, detail: { connected: false } });
    await clock.advance(30_000);
    expect(channel.health().ok).toBe(false);
  });
});

describe("whatsapp socket lease", () => {
  function fakeLease(free: { value: boolean }): WhatsAppLease & { lose(): void } {
    let held = false;
    const listeners: Array<() => void> = [];
    return {
      key: "test:whatsapp:lease",
      get held() {
        return held;
      },
      async acquire() {
        if (held) return true;
        if (!free.value) return false;
        free.value = false;
        held = true;
        return true;
      },
      async release() {
        if (held) free.value = true;
        held = false;
      },
      onLost: (l) => void listeners.push(l),
      lose() {
        held = false;
        for (const l of listeners) l();
      },
    };
  }

  it("stands by without the lease, takes over when it frees, and lets go when it is lost", async () => {
    const free = { value: false };
    const lease = fakeLease(free);
    const { wa, clock, channel } = await setup({ lease });
    expect(wa.sockets).toHaveLength(0);
    expect(channel.health()).toMatchObject({ ok: true, detail: { leaseHeld: false, state: "standby" } });
    free.value = true;
    await clock.advance(5_000);
    expect(wa.sockets).toHaveLength(1);
    wa.latest().open();
    expect(channel.health().detail.leaseHeld).toBe(true);

    lease.lose(); // e.g. Redis did not confirm a renewal in time; another process may hold it now
    await settle();
    expect(wa.sockets[0]!.ended).toBe(true);
    expect(channel.status().state).toBe("standby");
    expect(channel.health().detail).toMatchObject({ connected: false, leaseHeld: false });
    await clock.advance(15_000);
    expect(wa.sockets).toHaveLength(1); // someone else holds it: keep standing by
    free.value = true; // its holder died and the key expired
    await clock.advance(5_000);
    expect(wa.sockets).toHaveLength(2);

    await channel.stop();
    expect(lease.held).toBe(false);
    expect(free.value).toBe(true);
  });
});
