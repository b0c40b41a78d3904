/**
 * `signoff whatsapp login | status | logout` against the real PostgreSQL, with a fake socket
 * playing WhatsApp's side of a QR link, a pairing-code link and an unlink.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createWhatsAppAuthStore } from "../../src/store/whatsapp-auth-store.js";
import { createDatabase } from "../../src/store/db.js";
import { runWhatsAppCli } from "../../src/cli-whatsapp.js";
import { captureLogger } from "../fakes/capture-logger.js";
import { createFakeBaileys, createFakeClock, linkedCreds, settle } from "../fakes/fake-baileys-socket.js";
import { DATABASE_URL, cleanupTestInstance, eventually, testConfig, uniqueName } from "../helpers/harness.js";

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await cleanupTestInstance(s, uniqueName("none"));
});

function cli(env: Record<string, string> = {}) {
  const schema = uniqueName("wacli");
  schemas.push(schema);
  const base = testConfig({ schema, prefix: uniqueName("q") });
  const config = { ...base, env: { ...base.env, ...env } };
  const wa = createFakeBaileys();
  const lines: string[] = [];
  const log = captureLogger();
  const run = (sub: string, extra: { timeoutMs?: number; clock?: ReturnType<typeof createFakeClock> } = {}) =>
    runWhatsAppCli([sub], (l) => lines.push(l), {
      config,
      logger: log.logger,
      login: { makeSocket: wa.makeSocket, ...extra },
    });
  return { schema, wa, lines, run, log };
}

/** WhatsApp's side of a successful link: pair-success creds, then "restart required", then open. */
async function completeLink(wa: ReturnType<typeof createFakeBaileys>) {
  const { account, me } = linkedCreds("64200000001");
  wa.latest().emit("creds.update", { account, me });
  wa.latest().close(515);
  await eventually(() => wa.sockets.length === 2, "the socket after the restart");
  wa.latest().open();
}

describe("signoff whatsapp", () => {
  it("login by QR prints the QR, saves the session once linked; status and logout follow", async () => {
    const { wa, lines, run, schema, log } = cli();
    const login = run("login");
    await eventually(() => wa.sockets.length === 1, "the login socket");
    wa.latest().qr("2@QRTEXT,abc");
    await settle();
    expect(lines.join("\n")).toContain("2@QRTEXT,abc");
    await completeLink(wa);
    expect(await login).toBe(0);
    expect(lines.at(-1)).toBe("Linked as 64200000001:7@s.whatsapp.net. Start signoff with WHATSAPP_ENABLED=true.");
    expect(wa.sockets.every((s) => s.ended)).toBe(true);

    const db = createDatabase({ url: DATABASE_URL, schema });
    const stored = await createWhatsAppAuthStore(db).loadCreds();
    await db.close();
    expect(stored.current).toContain("64200000001:7@s.whatsapp.net");

    expect(await run("status")).toBe(0);
    expect(lines.at(-1)).toMatch(/^WhatsApp is linked as 64200000001:7@s\.whatsapp\.net/);
    expect(await run("login")).toBe(0);
    expect(lines.at(-1)).toMatch(/^Already linked/);

    const logout = run("logout");
    await eventually(() => wa.sockets.length === 3, "the logout socket");
    wa.latest().open();
    expect(await logout).toBe(0);
    expect(wa.latest().loggedOut).toBe(true);
    expect(lines.at(-1)).toBe("Unlinked from WhatsApp and deleted the session.");
    expect(log.lines.filter((l) => l.level === "error")).toEqual([]); // an unlink we asked for is not an incident
    expect(await run("status")).toBe(1);
  });

  it("login by pairing code asks once the socket is ready and prints the code", async () => {
    const { wa, lines, run } = cli({ WHATSAPP_PAIRING_PHONE: "64200000001" });
    const login = run("login");
    await eventually(() => wa.sockets.length === 1, "the login socket");
    expect(wa.latest().pairingRequests).toEqual([]);
    wa.latest().qr("2@ready");
    await eventually(() => lines.some((l) => l.includes("ABCD-1234")), "the pairing code");
    expect(wa.latest().pairingRequests).toEqual(["64200000001"]);
    await completeLink(wa);
    expect(await login).toBe(0);
  });

  it("gives up after the timeout without saving anything", async () => {
    const { wa, lines, run } = cli();
    const clock = createFakeClock();
    const login = run("login", { clock, timeoutMs: 60_000 });
    await eventually(() => wa.sockets.length === 1, "the login socket");
    await clock.advance(60_000);
    expect(await login).toBe(1);
    expect(lines.at(-1)).toMatch(/Gave up/);
    expect(await run("status")).toBe(1);
  });

  it("rejects anything but login, logout and status", async () => {
    const { lines, run } = cli();
    expect(await run("dance")).toBe(2);
    expect(lines[0]).toMatch(/usage: signoff whatsapp/);
  });
});
