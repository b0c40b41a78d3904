/**
 * The web chat across restarts, without I/O: message ids of one run never name a message of
 * another, and the reconcile posts a pending card again only in chats that lost it, once.
 * The real web chat channel, card presenter and templates; stores are in memory.
 */
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import { createWebchatChannel, type WebchatChannel } from "../../../../src/bot/webchat/webchat-channel.js";
import type { Approval } from "../../../../src/domain/approval.js";
import type { Channel, ChannelName } from "../../../../src/domain/channel.js";
import type { OutboxJob } from "../../../../src/domain/outbox.js";
import { createCardPresenter } from "../../../../src/handlers/approvals/card-presenter.js";
import { createOperatorDirectory } from "../../../../src/handlers/chat/operators.js";
import { createRenderer } from "../../../../src/handlers/chat/render.js";
import { walkLostCards } from "../../../../src/jobs/lost-cards.js";
import { type ReconcileCards, showLostCards } from "../../../../src/jobs/reconciler.js";
import type { CardRef } from "../../../../src/store/chat-store.js";
import { approvalFixture as approval } from "../../../helpers/approval-fixture.js";

const OPERATORS = [
  { name: "adam", roles: ["owner", "approver"], webchat: true, timezone: "UTC", telegram: "1001" },
  { name: "eve", roles: ["approver"], webchat: true, timezone: "Europe/Berlin" },
  { name: "vic", roles: ["viewer"], webchat: true, timezone: "UTC" },
];

/** One run of the process: its own web chat, presenter and (shared) card references. */
function run(
  refs: CardRef[],
  records: Map<string, Approval>,
  bootId?: string,
  options: Pick<ReconcileCards, "repostsPerChat"> & { summary?: boolean } = {},
) {
  const directory = createOperatorDirectory(OPERATORS, "UTC", PLATFORMS);
  const webchat = createWebchatChannel({
    operators: () => OPERATORS.map((o) => o.name),
    ...(bootId ? { bootId } : {}),
  });
  const channels = new Map<ChannelName, WebchatChannel>([["webchat", webchat]]);
  const chat = {
    saveCardRef: async (ref: CardRef) => void refs.push(ref),
    listCardRefs: async (id: string) => refs.filter((r) => r.approvalId === id),
  };
  const renderer = createRenderer(PLATFORMS);
  const jobs: OutboxJob[] = [];
  // As the outbox does for the in-process web chat: performed at once, no dedup id.
  const enqueue = async (job: OutboxJob) => {
    jobs.push(job);
    await presenter.perform(job);
  };
  const presenter = createCardPresenter({
    directory,
    channels,
    renderer,
    chat,
    approvals: { get: async (id) => records.get(id) ?? null, confirmNoticeDelivered: async () => new Date() },
    enqueue,
    defaultTimezone: "UTC",
  });
  // Telegram runs too (it keeps its messages, so it has no `knows`); the presenter only posts to the web chat here.
  const running = new Map<ChannelName, Pick<Channel, "knows">>([...channels, ["telegram", {}]]);
  const cards = {
    listCardRefs: chat.listCardRefs,
    announce: presenter.announce,
    channels: running,
    directory,
    enqueue,
    ...(options.summary ? { renderer } : {}),
    ...(options.repostsPerChat ? { repostsPerChat: options.repostsPerChat } : {}),
  };
  return {
    webchat,
    presenter,
    jobs,
    cards,
    reconcile: () =>
      showLostCards(
        [...records.values()].filter((a) => a.status === "pending"),
        cards,
      ),
  };
}

const cardsIn = (webchat: WebchatChannel, chatId: string, code: string) =>
  webchat.history(chatId).filter((m) => m.text.includes(code) && m.buttons.length > 0);

describe("web chat message ids", () => {
  it("never repeat across runs, stay short, and only this run's are known", async () => {
    const before = createWebchatChannel({ operators: () => ["adam"] });
    const after = createWebchatChannel({ operators: () => ["adam"] });
    const old = await before.send("adam", { text: "one" });
    const fresh = await after.send("adam", { text: "one" });
    expect(fresh.messageId).not.toBe(old.messageId);
    expect(old.messageId.length).toBeLessThanOrEqual(40);
    expect(after.knows(fresh)).toBe(true);
    expect(after.knows(old)).toBe(false);
    expect(after.knows({ ...fresh, channel: "telegram" })).toBe(false);
  });

  it("a boot id that is the start of another does not make its ids known", async () => {
    const short = createWebchatChannel({ operators: () => ["adam"], bootId: "ab" });
    const long = createWebchatChannel({ operators: () => ["adam"], bootId: "abc" });
    expect(short.knows(await long.send("adam", { text: "x" }))).toBe(false);
    expect(() => createWebchatChannel({ operators: () => [], bootId: "a-b" })).toThrow(/boot id/);
  });

  it("an edit naming a message of an earlier run changes nothing in this run", async () => {
    const before = createWebchatChannel({ operators: () => ["adam"] });
    const after = createWebchatChannel({ operators: () => ["adam"] });
    const oldCard = await before.send("adam", { text: "Approval needed K7QF" });
    await after.send("adam", { text: "hello" });
    await after.edit(oldCard, { text: "✅ Approved" });
    await after.react(oldCard, "✅");
    expect(after.history("adam").map((m) => [m.text, m.reactions])).toEqual([["hello", []]]);
  });
});

describe("reconcile after a restart", () => {
  it("posts a pending card again in each chat that lost it, once, and never again", async () => {
    const refs: CardRef[] = [];
    const records = new Map([[approval().id, approval()]]);
    const first = run(refs, records);
    await first.presenter.announce(approval(), "card");
    expect(cardsIn(first.webchat, "adam", "K7QF")).toHaveLength(1);
    expect(cardsIn(first.webchat, "vic", "K7QF")).toHaveLength(0); // a viewer gets no card

    const second = run(refs, records);
    expect(await second.reconcile()).toEqual({ reannounced: 0, reposted: 2 });
    expect(cardsIn(second.webchat, "adam", "K7QF")).toHaveLength(1);
    expect(cardsIn(second.webchat, "eve", "K7QF")).toHaveLength(1);
    expect(second.jobs.map((j) => j.op === "announce" && [j.chatId, j.operator, j.announcement])).toEqual([
      ["adam", "adam", "card"],
      ["eve", "eve", "card"],
    ]);
    expect(await second.reconcile()).toEqual({ reannounced: 0, reposted: 0 });
    expect(cardsIn(second.webchat, "adam", "K7QF")).toHaveLength(1);
  });

  it("leaves alone a run that still shows its cards", async () => {
    const refs: CardRef[] = [];
    const records = new Map([[approval().id, approval()]]);
    const only = run(refs, records);
    await only.presenter.announce(approval(), "card");
    expect(await only.reconcile()).toEqual({ reannounced: 0, reposted: 0 });
    expect(cardsIn(only.webchat, "adam", "K7QF")).toHaveLength(1);
  });

  it("skips chats whose reader may no longer answer, and never re-posts platform channels' cards", async () => {
    const a = approval({ approverRoles: ["owner"] });
    const refs: CardRef[] = [
      { channel: "webchat", chatId: "eve", messageId: "gone0-1", approvalId: a.id, kind: "card" }, // eve is no owner
      { channel: "webchat", chatId: "sam", messageId: "gone0-2", approvalId: a.id, kind: "card" }, // no such operator
      { channel: "telegram", chatId: "1001", messageId: "42", approvalId: a.id, kind: "card" }, // adam's; Telegram keeps its messages
    ];
    const later = run(refs, new Map([[a.id, a]]));
    expect(await later.reconcile()).toEqual({ reannounced: 0, reposted: 0 });
    expect(later.jobs).toEqual([]);
  });

  it("a low request gets its notice again, and one escalated by a pause gets a card", async () => {
    const low = approval({
      gate: "low",
      effectiveGate: "low",
      deadlineAt: null,
      objectionSeconds: 10,
      objectionEndsAt: new Date("2030-01-01T00:00:10Z"),
    });
    const paused = approval({
      id: "8e1d3b9f-5c2e-4d4f-8b6a-1e7f2c3d4b5a",
      code: "P4US",
      gate: "low",
      effectiveGate: "medium",
    });
    const refs: CardRef[] = [
      { channel: "webchat", chatId: "adam", messageId: "gone0-1", approvalId: low.id, kind: "notice" },
      { channel: "webchat", chatId: "adam", messageId: "gone0-2", approvalId: paused.id, kind: "notice" },
    ];
    const later = run(
      refs,
      new Map([
        [low.id, low],
        [paused.id, paused],
      ]),
    );
    expect(await later.reconcile()).toEqual({ reannounced: 0, reposted: 2 });
    expect(later.jobs.map((j) => j.op === "announce" && [j.approvalId, j.announcement])).toEqual([
      [low.id, "notice"],
      [paused.id, "card"],
    ]);
  });

  it("a pending request that no chat shows is announced everywhere, as before", async () => {
    const records = new Map([[approval().id, approval()]]);
    const later = run([], records);
    expect(await later.reconcile()).toEqual({ reannounced: 1, reposted: 0 });
    expect(cardsIn(later.webchat, "adam", "K7QF")).toHaveLength(1);
    expect(cardsIn(later.webchat, "eve", "K7QF")).toHaveLength(1);
  });
});

describe("a restarted web chat with more pending cards than it shows", () => {
  /** `count` pending requests, one a minute, each with a card in adam's and eve's chats from a run before. */
  function backlog(count: number) {
    const records = new Map<string, Approval>();
    const refs: CardRef[] = [];
    for (let i = 0; i < count; i++) {
      const a = approval({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        code: `Q${String(i).padStart(3, "0")}`,
        title: `deploy ${i}`,
        createdAt: new Date(Date.UTC(2030, 0, 1, 0, i)),
      });
      records.set(a.id, a);
      for (const chatId of ["adam", "eve"])
        refs.push({ channel: "webchat", chatId, messageId: `gone0-${chatId}-${i}`, approvalId: a.id, kind: "card" });
    }
    return { records, refs };
  }

  /** The walk a reconcile makes: pages in id order of `size`, then the end of the walk. */
  async function walk(cards: ReconcileCards, pending: Approval[], size: number) {
    const lost = walkLostCards(cards);
    let reposted = 0;
    for (let i = 0; i < pending.length; i += size) reposted += (await lost.page(pending.slice(i, i + size))).reposted;
    const last = await lost.finish();
    return { reposted: reposted + last.reposted, summarised: last.summarised };
  }

  const botTexts = (webchat: WebchatChannel, chatId: string) =>
    webchat.history(chatId).map((m) => (m.buttons.length ? `card ${/Q\d{3}/.exec(m.text)?.[0]}` : m.text));

  it("gets back the newest cards, oldest of them first, and one line for the rest, once", async () => {
    const { records, refs } = backlog(12);
    const later = run(refs, records, undefined, { repostsPerChat: 5, summary: true });
    // Pages in an order unrelated to age, so the newest are picked across pages, not within one.
    const shuffled = [...records.values()].sort((a, b) =>
      a.title.split("").reverse() < b.title.split("").reverse() ? -1 : 1,
    );
    expect(await walk(later.cards, shuffled, 4)).toEqual({ reposted: 10, summarised: 2 });
    const expected = [
      "card Q007",
      "card Q008",
      "card Q009",
      "card Q010",
      "card Q011",
      "…and 7 more pending (the newest 5 are above): say pending to list them, or answer any by its code.",
    ];
    expect(botTexts(later.webchat, "adam")).toEqual(expected);
    expect(botTexts(later.webchat, "eve")).toEqual(expected);

    // The periodic reconcile: every chat is caught up for this run, so nothing more is posted.
    expect(await walk(later.cards, shuffled, 4)).toEqual({ reposted: 0, summarised: 0 });
    expect(botTexts(later.webchat, "adam")).toHaveLength(6);
  });

  it("gets no more than the chat keeps, and no line when every lost card came back", async () => {
    const { records, refs } = backlog(3);
    const jobs: OutboxJob[] = [];
    const small = { knows: () => false, memory: { keeps: 2, caughtUp: new Set<string>() } };
    const base = run(refs, records, undefined, { summary: true });
    const cards: ReconcileCards = {
      ...base.cards,
      channels: new Map([["webchat", small]]),
      enqueue: async (job) => void jobs.push(job),
    };
    expect(await walk(cards, [...records.values()], 10)).toEqual({ reposted: 4, summarised: 2 });
    expect(
      jobs.flatMap((j) => (j.op === "announce" && j.chatId === "adam" ? [records.get(j.approvalId)?.code] : [])),
    ).toEqual(["Q001", "Q002"]);
    expect(jobs.find((j) => j.op === "text" && j.chatId === "adam")).toMatchObject({
      text: expect.stringContaining("…and 1 more"),
    });

    const few = backlog(2);
    const fits = run(few.refs, few.records, undefined, { repostsPerChat: 5, summary: true });
    expect(await walk(fits.cards, [...few.records.values()], 10)).toEqual({ reposted: 4, summarised: 0 });
    expect(botTexts(fits.webchat, "adam")).toEqual(["card Q000", "card Q001"]);
  });

  it("a chat whose catch-up could not be queued is tried again by the next reconcile", async () => {
    const { records, refs } = backlog(3);
    const later = run(refs, records, undefined, { repostsPerChat: 2, summary: true });
    let broken = true;
    const cards: ReconcileCards = {
      ...later.cards,
      enqueue: async (job) => {
        if (broken) throw new Error("outbox unavailable");
        await later.cards.enqueue!(job);
      },
    };
    await expect(walk(cards, [...records.values()], 10)).rejects.toThrow(/outbox unavailable/);
    broken = false;
    expect(await walk(cards, [...records.values()], 10)).toEqual({ reposted: 4, summarised: 2 });
    expect(botTexts(later.webchat, "adam")).toEqual([
      "card Q001",
      "card Q002",
      "…and 1 more pending (the newest 2 are above): say pending to list them, or answer any by its code.",
    ]);
  });
});
