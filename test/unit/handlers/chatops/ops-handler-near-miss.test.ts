/**
 * Through the chat handler and the chat-ops handler together: a negated, misspelt or questioning
 * command changes nothing (no task command, no pause, no answer, no queue report) and gets one
 * short reply naming the command it resembles; the exact command still acts, and task ids match
 * ignoring case with the exact id winning and several matches asked about.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import type { Task } from "../../../../src/domain/operations.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { createChatHandler } from "../../../../src/handlers/chat/chat-handler.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { createOpsHandler, type OpsHandlerDeps } from "../../../../src/handlers/chatops/ops-handler.js";
import type { OpsQueries } from "../../../../src/handlers/chatops/ops-queries.js";
import { webchatText } from "../../../helpers/inbound-text.js";

const NOW = new Date("2026-11-22T09:00:00Z");

const task = (id: string, source = "forge"): Task => ({
  id,
  source,
  title: `title of ${id}`,
  state: "in-progress",
  agent: null,
  priority: 0,
  attempts: 0,
  error: null,
  createdAt: NOW,
  updatedAt: NOW,
  stateSince: NOW,
});

function harness(tasks: Task[] = [task("X"), task("T-16")], roles = ["owner", "approver"]) {
  const done: string[] = []; // everything that acted or answered a query
  const sent: OutboxJob[] = [];
  const renderer = createRenderer(PLATFORMS);
  const query = (name: string) => async () => {
    done.push(`query ${name}`);
    return { template: "try-again", view: {} };
  };
  const deps: OpsHandlerDeps = {
    queries: {
      status: query("status"),
      queue: query("queue"),
      spend: query("spend"),
      failures: query("failures"),
    } as unknown as OpsQueries,
    digests: { digestNow: query("digest") },
    tasks: {
      matchingId: async (id) => tasks.filter((t) => t.id.toLowerCase() === id.toLowerCase()),
    },
    commands: {
      async apply(input) {
        done.push(`${input.command} ${input.taskId}`);
        const t = tasks.find((x) => x.id === input.taskId);
        if (!t) return { outcome: "not_found" };
        return {
          outcome: "applied",
          before: t,
          deliveryId: null,
          command: {
            id: "1",
            command: input.command,
            taskId: t.id,
            source: t.source,
            requestedBy: input.by,
            createdAt: NOW,
            task: t,
          },
        };
      },
    },
    settings: {
      pauseState: async () => ({ paused: false, by: null, at: null }),
      async setPaused(paused) {
        done.push(paused ? "pause" : "resume");
      },
    },
    audit: { append: async () => undefined },
    pairing: {
      async pair() {
        throw new Error("no pairing expected");
      },
    },
    broadcaster: { toOperators: async () => 0 },
    deliver: async () => undefined,
    commandUrl: () => null,
    renderer,
    enqueue: async (job) => void sent.push(job),
    commandRoles: {
      kill: ["owner"],
      retry: ["owner"],
      prioritise: ["owner"],
      pause: ["owner"],
      resume: ["owner"],
      pair: ["owner"],
    },
    now: () => NOW,
    logger: { warn: () => undefined },
  };
  const handler = createChatHandler({
    service: {
      async answer(input) {
        done.push(`answer ${input.verdict}`);
        throw new Error("no answer expected");
      },
      get: async () => null,
      getByCode: async () => null,
      list: async () => [],
    },
    chat: { claimInbound: async () => true, findCardRef: async () => null },
    directory: createOperatorDirectory([{ name: "adam", roles, webchat: true }], "UTC", PLATFORMS),
    audit: { append: async () => undefined },
    renderer,
    enqueue: async (job) => void sent.push(job),
    intents: createOpsHandler(deps),
    logger: { warn: () => undefined, error: () => undefined },
    now: () => NOW,
  });
  let n = 0;
  const say = async (text: string): Promise<string[]> => {
    const before = sent.length;
    await handler.handle(webchatText("adam", text, n++, NOW));
    return sent.slice(before).map((j) => (j.op === "text" ? j.text : ""));
  };
  return { say, done };
}

describe("near misses do nothing but suggest", () => {
  it.each([
    ["do not kill task X", "Not doing anything. If you do want it, say kill task X."],
    ["don't kill task X", "Not doing anything. If you do want it, say kill task X."],
    ["don't retry task X", "Not doing anything. If you do want it, say retry task X."],
    ["kill task X, no wait", "Not doing anything. If you do want it, say kill task X."],
    ["don't pause", "Not doing anything. If you do want it, say pause."],
    ["please do not resume", "Not doing anything. If you do want it, say resume."],
    ["don't approve K7QF", "Not doing anything. If you do want it, say approve K7QF or reject K7QF."],
    ["kil task X", "Did you mean kill task X? Nothing was done."],
    ["kill tsak X", "Did you mean kill task X? Nothing was done."],
    ["pasue", "Did you mean pause? Nothing was done."],
    ["aprove K7QF", "Did you mean approve K7QF? Nothing was done."],
    ["pause please?", "Did you mean pause? Nothing was done: say it without the question mark to do it."],
  ])("%j", async (text, reply) => {
    const h = harness();
    expect(await h.say(text)).toEqual([reply]);
    expect(h.done).toEqual([]);
  });

  it("the exact commands still act (so the cases above would show an action)", async () => {
    const h = harness();
    await h.say("kill task X");
    await h.say("pause");
    await h.say("how's the queue?");
    expect(h.done).toEqual(["kill X", "pause", "query queue"]);
  });

  it("suggests only what the operator may use: a viewer's typo is unknown text, a negation just does nothing", async () => {
    const h = harness(undefined, ["viewer"]);
    expect(await h.say("kil task X")).toEqual(["I didn't understand that. Try: status, failures, help."]);
    expect(await h.say("don't kill task X")).toEqual(["Not doing anything."]);
    expect(await h.say("don't approve K7QF")).toEqual(["Not doing anything."]);
    expect(h.done).toEqual([]);
  });

  it("unknown text is still not understood, with the closest matches", async () => {
    const h = harness();
    expect(await h.say("stts")).toEqual(["I didn't understand that. Try: status, spend, retry task <id>, help."]);
    expect(h.done).toEqual([]);
  });
});

describe("task ids ignoring case", () => {
  it("finds the task whatever the case, and commands it by the id as the source spelt it", async () => {
    const h = harness([task("T-16"), task("t-17")]);
    expect(await h.say("kill task t-16")).toEqual([
      "🛑 Killed T-16 title of T-16 (now in-progress). forge is told when it next pulls its commands.",
    ]);
    await h.say("prioritize task T-17");
    expect(h.done).toEqual(["kill T-16", "prioritise t-17"]);
  });

  it("with two ids differing only in case, the exact one wins and any other spelling asks which", async () => {
    const h = harness([task("Dup-1", "forge"), task("DUP-1", "puller")]);
    expect(await h.say("retry task dup-1")).toEqual([
      [
        "Several tasks match dup-1; say which one, exactly as written:",
        "• retry task Dup-1: title of Dup-1 (in-progress, from forge)",
        "• retry task DUP-1: title of DUP-1 (in-progress, from puller)",
      ].join("\n"),
    ]);
    expect(h.done).toEqual([]);
    await h.say("retry task DUP-1");
    expect(h.done).toEqual(["retry DUP-1"]);
  });
});
