/**
 * Task ids in chat match the ids sources report ignoring case, through the real store: `kill task
 * t-16` finds `T-16` and the reverse; the command a source receives carries its own spelling; when
 * two tasks differ only in case, the exact id wins and anything else asks which one, changing nothing.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCallbackReceiver } from "../helpers/callback-receiver.js";
import { SOURCE_TOKEN, api, cleanupTestInstance, eventually } from "../helpers/harness.js";
import { type OpsSignoff, ask, startOpsSignoff } from "./chatops-harness.js";

const sha = (token: string) => createHash("sha256").update(token).digest("hex");
const PULLER = "puller-token-for-case-tests";

let s: OpsSignoff;
let hooks: Awaited<ReturnType<typeof startCallbackReceiver>>;

beforeAll(async () => {
  hooks = await startCallbackReceiver();
  s = await startOpsSignoff({
    file: {
      sources: [
        { name: "forge", tokenSha256: sha(SOURCE_TOKEN), commandUrl: hooks.url },
        { name: "puller", tokenSha256: sha(PULLER) },
      ],
    },
  });
});

afterAll(async () => {
  await s?.close();
  if (s) await cleanupTestInstance(s.schema, s.prefix);
  await hooks?.close();
});

describe("task ids ignoring case", () => {
  it("an upper-case id reported, a lower-case id said: the webhook carries the source's spelling", async () => {
    await api(s, "POST", "/api/tasks", { id: "T-16", title: "Crawl site", state: "in-progress" });
    expect(await ask(s, "adam", "kill task t-16")).toBe(
      "🛑 Killed T-16 Crawl site (now failed). forge is told by webhook.",
    );
    expect((await s.ops.tasks.get("T-16"))!.state).toBe("failed");
    const hook = await eventually(
      () => hooks.successes().find((r) => JSON.parse(r.body).command === "kill"),
      "kill webhook",
    );
    expect(JSON.parse(hook.body)).toMatchObject({ taskId: "T-16", task: { id: "T-16" } });
  });

  it("a lower-case id reported, an upper-case id said: the pull carries the source's spelling", async () => {
    await api(s, "POST", "/api/tasks", { id: "t-17", title: "Backfill", state: "failed", error: "oom" }, PULLER);
    expect(await ask(s, "adam", "retry task T-17")).toBe(
      "🔁 Retrying t-17 Backfill (now ready). puller is told when it next pulls its commands.",
    );
    expect(await ask(s, "adam", "prioritize task T-17")).toContain("⏫ Prioritised t-17 Backfill");
    const pulled = (await api(s, "GET", "/api/commands", undefined, PULLER)).body.commands;
    expect(pulled.map((c: { command: string; taskId: string }) => [c.command, c.taskId])).toEqual([
      ["retry", "t-17"],
      ["prioritise", "t-17"],
    ]);
  });

  it("two ids differing only in case: the exact one wins, another spelling asks which and changes nothing", async () => {
    await api(s, "POST", "/api/tasks", { id: "Dup-1", title: "Forge's dup", state: "ready" });
    await api(s, "POST", "/api/tasks", { id: "DUP-1", title: "Puller's dup", state: "ready" }, PULLER);

    expect(await ask(s, "adam", "kill task dup-1")).toBe(
      [
        "Several tasks match dup-1; say which one, exactly as written:",
        "• kill task DUP-1: Puller's dup (ready, from puller)",
        "• kill task Dup-1: Forge's dup (ready, from forge)",
      ].join("\n"),
    );
    expect((await s.ops.tasks.get("Dup-1"))!.state).toBe("ready");
    expect((await s.ops.tasks.get("DUP-1"))!.state).toBe("ready");

    expect(await ask(s, "adam", "kill task DUP-1")).toBe(
      "🛑 Killed DUP-1 Puller's dup (now failed). puller is told when it next pulls its commands.",
    );
    expect((await s.ops.tasks.get("Dup-1"))!.state).toBe("ready");
    expect(await ask(s, "adam", "kill task Dup-1")).toBe(
      "🛑 Killed Dup-1 Forge's dup (now failed). forge is told by webhook.",
    );
  });

  it("the store finds ids ignoring case, exact first, and nothing for another id", async () => {
    expect((await s.ops.tasks.matchingId("dup-1")).map((t) => t.id)).toEqual(["DUP-1", "Dup-1"]);
    expect((await s.ops.tasks.matchingId("Dup-1")).map((t) => t.id)).toEqual(["Dup-1", "DUP-1"]);
    expect(await s.ops.tasks.matchingId("dup-2")).toEqual([]);
    expect(await s.ops.tasks.matchingId("dup_1")).toEqual([]); // case only: no pattern matching
  });
});
