/**
 * Strangers and pairing: a stranger learns nothing, gets at most one reply a
 * day (a pairing code that expires after an hour), every message is audited; an owner admits
 * them with `pair <code> as <role>` and they can ask `status` at once; paired operators are
 * stored in PostgreSQL and survive a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, cleanupTestInstance } from "../helpers/harness.js";
import { type OpsSignoff, ask, botMessages, settle, startOpsSignoff, testClock } from "./chatops-harness.js";

const HOUR = 3_600_000;
const clock = testClock(new Date());
let s: OpsSignoff;

beforeAll(async () => {
  s = await startOpsSignoff({ now: clock.now });
  await api(s, "POST", "/api/tasks", {
    id: "SECRET-1",
    title: "Rotate production keys",
    state: "in-progress",
    agent: "forge",
  });
  await api(s, "POST", "/api/approvals", { title: "Wire transfer to vendor", gate: "medium" });
});

afterAll(async () => {
  await s?.close();
  if (s) await cleanupTestInstance(s.schema, s.prefix);
});

/** The pairing code in a stranger's only reply. */
const codeIn = (text: string) => /: ([2-9A-HJ-NP-Z]{6}) \(valid for 60 minutes\)\.$/.exec(text)?.[1];

async function strangerAudit(): Promise<string[]> {
  await s.audit.seal();
  const { rows } = await s.db.pool.query<{ action: string }>(
    "SELECT action FROM audit_log WHERE actor LIKE 'webchat:%' ORDER BY id",
  );
  return rows.map((r) => r.action);
}

describe("a stranger", () => {
  it("gets one pairing reply a day and no data, and every message is audited", async () => {
    await s.webchat!.operatorSays("sam", "status");
    await s.webchat!.operatorSays("sam", "what did we spend today?");
    await s.webchat!.operatorSays("sam", "pending");
    const replies = await settle(s, "sam");
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(
      /^Hello! I only talk to people I know\. If you should have access, give this code to an owner: [2-9A-HJ-NP-Z]{6} \(valid for 60 minutes\)\.$/,
    );
    for (const secret of ["SECRET", "Rotate", "Wire", "forge", "$", "pending", "approval"])
      expect(replies[0]).not.toContain(secret);
    expect(await strangerAudit()).toEqual([
      "stranger.message",
      "stranger.pairing_code",
      "stranger.message",
      "stranger.message",
    ]);

    clock.advance(23 * HOUR);
    await s.webchat!.operatorSays("sam", "hello?");
    expect(await settle(s, "sam")).toHaveLength(1); // still the same day (rolling 24 h)
    clock.advance(2 * HOUR);
    await s.webchat!.operatorSays("sam", "hello again");
    expect(await settle(s, "sam")).toHaveLength(2); // a new day: one new code
  });

  it("cannot be paired by a viewer, with an expired code, or twice with the same code", async () => {
    await s.webchat!.operatorSays("kim", "hi");
    const code = codeIn((await settle(s, "kim"))[0]!)!;
    expect(await ask(s, "vic", `pair ${code} as viewer`)).toBe("You can't pair: it needs one of these roles: owner.");
    expect(await ask(s, "adam", "pair ZZZZZ9 as viewer")).toBe(
      "No pairing code ZZZZZ9. Codes are given to people who message the bot.",
    );
    expect(await ask(s, "adam", "pair me please")).toContain('Say "pair <code> as <role>"');
    clock.advance(HOUR + 60_000);
    expect(await ask(s, "adam", `pair ${code.toLowerCase()} as viewer`)).toBe(`Pairing code ${code} has expired.`);
    expect(s.directory.byName("kim")).toBeUndefined();
  });

  it("once paired by an owner, can ask status at once; the pairing is audited and survives a restart", async () => {
    await s.webchat!.operatorSays("lee", "hi there");
    const code = codeIn((await settle(s, "lee"))[0]!)!;
    expect(await ask(s, "adam", `pair ${code} as viewer`)).toBe("✅ Paired lee (webchat) as viewer.");
    expect(await ask(s, "adam", `pair ${code} as viewer`)).toBe(`Pairing code ${code} was already used.`);
    expect((await settle(s, "lee")).at(-1)).toBe(
      '👋 You\'re in as lee (viewer), added by adam. Say "help" to see what you can ask.',
    );

    const status = await ask(s, "lee", "status");
    expect(status).toMatch(/^📊 Status · \d\d:\d\d\nApprovals: 1 pending\nTasks: 1 in progress\n/);
    expect(await ask(s, "lee", "kill task SECRET-1")).toBe(
      "You can't kill: it needs one of these roles: owner, approver.",
    );
    await s.audit.seal();
    expect(
      (await s.audit.listBySubject("lee")).map((e) => ({ actor: e.actor, action: e.action, data: e.data })),
    ).toEqual([
      { actor: "adam", action: "operator.paired", data: { channel: "webchat", senderId: "lee", roles: ["viewer"] } },
    ]);

    // Stored in PostgreSQL: a fresh process knows lee from the start.
    const { schema, prefix } = s;
    await s.close();
    s = await startOpsSignoff({ schema, prefix, now: clock.now });
    expect(s.directory.byName("lee")).toMatchObject({ roles: ["viewer"], webchat: true, paired: true });
    expect(await ask(s, "lee", "queue")).toContain("🗂 Queue");
    expect(botMessages(s, "lee").some((m) => m.text.includes("only talk to people I know"))).toBe(false); // no stranger reply after the restart
  });

  it("another process's pairing is recognised the moment the operator speaks", async () => {
    await s.webchat!.operatorSays("max", "hello");
    const code = codeIn((await settle(s, "max"))[0]!)!;
    // Pair through the store as another process would (this process's directory does not know yet).
    await s.ops.pairingStore.admit({
      code,
      at: clock.now(),
      operator: {
        name: "max",
        roles: ["approver"],
        channel: "webchat",
        senderId: "max",
        chatId: "max",
        displayName: "max",
        pairedBy: "adam",
      },
      audit: [],
    });
    expect(s.directory.byName("max")).toBeUndefined();
    expect(await ask(s, "max", "help")).toContain("• approve K7QF · reject K7QF reason · modify K7QF what to change");
  });
});
