/**
 * The web chat page's own script, run in a VM against a tiny fake DOM, fetch and EventSource
 * (no browser on this machine): message order, reloading after a restart, and never losing what
 * the operator typed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { describe, expect, it } from "vitest";

const PAGE = readFileSync(join(import.meta.dirname, "../../../../src/bot/webchat/page.html"), "utf8");
const SCRIPT = /<script>([\s\S]*?)<\/script>/.exec(PAGE)![1]!;

interface Message {
  id: string;
  from: "bot" | "operator";
  text: string;
  buttons: Array<{ label: string; data: string }>;
  reactions: string[];
  at: string;
}

class FakeElement {
  children: FakeElement[] = [];
  className = "";
  title = "";
  value = "";
  hidden = false;
  disabled = false;
  scrollTop = 0;
  scrollHeight = 0;
  style: Record<string, string> = {};
  onclick: (() => unknown) | null = null;
  own = "";
  constructor(readonly tag: string) {}
  get textContent(): string {
    return this.own + this.children.map((c) => c.textContent).join("");
  }
  set textContent(value: string) {
    this.children = [];
    this.own = String(value);
  }
  appendChild(child: FakeElement) {
    this.children.push(child);
    return child;
  }
  append(...items: Array<FakeElement | string>) {
    for (const item of items) {
      if (typeof item !== "string") this.appendChild(item);
      else Object.assign(this.appendChild(new FakeElement("#text")), { own: item });
    }
  }
  replaceChildren() {
    this.children = [];
    this.own = "";
  }
  add(option: FakeElement) {
    this.appendChild(option);
  }
  focus() {}
}

class FakeEventSource {
  static all: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  onopen: ((e: unknown) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  private handlers = new Map<string, Array<(e: { data: string }) => void>>();
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(event: string, fn: (e: { data: string }) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  emit(event: string, data: unknown) {
    for (const fn of this.handlers.get(event) ?? []) fn({ data: JSON.stringify(data) });
  }
  /** The connection dropped; `gaveUp` as when the server answered with an error status. */
  fail(gaveUp = false) {
    this.readyState = gaveUp ? 2 : 0;
    this.onerror?.({});
  }
}

const message = (id: string, text: string, from: "bot" | "operator" = "bot"): Message => ({
  id,
  from,
  text,
  buttons: [],
  reactions: [],
  at: "2030-01-01T00:00:00.000Z",
});

/** Load the page against a fake server whose history and send answer the test controls. */
function loadPage(server: {
  history: Message[];
  send?: (body: unknown) => Promise<Response> | Response;
  messages?: () => Promise<Message[]>;
}) {
  FakeEventSource.all = [];
  const elements = new Map<string, FakeElement>();
  for (const m of PAGE.matchAll(/<(\w+) id="(\w+)"([^>]*)>/g)) {
    elements.set(m[2]!, Object.assign(new FakeElement(m[1]!), { hidden: / hidden/.test(m[3]!) }));
  }
  const timers: Array<() => void> = [];
  const sent: unknown[] = [];
  const json = (value: unknown, status = 200) =>
    new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
  const fetch = async (url: string, init?: { body?: string }) => {
    if (url === "/chat/api/operators") return json({ operators: ["adam"] });
    if (url.endsWith("/messages"))
      return json({ messages: server.messages ? await server.messages() : server.history });
    if (url.endsWith("/send")) {
      const body = JSON.parse(init!.body!);
      sent.push(body);
      return server.send ? server.send(body) : json({ message: message("x-1", body.text, "operator") });
    }
    return json({ ok: true });
  };
  const context = vm.createContext({
    document: {
      getElementById: (id: string) => elements.get(id) ?? null,
      createElement: (tag: string) => new FakeElement(tag),
    },
    fetch,
    EventSource: FakeEventSource,
    Option: class extends FakeElement {
      constructor(text: string, value: string) {
        super("option");
        this.textContent = text;
        this.value = value;
      }
    },
    setTimeout: (fn: () => void) => timers.push(fn),
    clearTimeout: () => undefined,
  });
  vm.runInContext(SCRIPT, context);
  const el = (id: string) => elements.get(id)!;
  return {
    el,
    sent,
    /** Texts of the bubbles, top to bottom. */
    bubbles: () => el("log").children.map((c) => c.own),
    stream: () => FakeEventSource.all.at(-1)!,
    runTimers: () => {
      for (const fn of timers.splice(0)) fn();
    },
    submit: (text: string) => {
      el("text").value = text;
      return (el("form") as unknown as { onsubmit: (e: { preventDefault(): void }) => Promise<void> }).onsubmit({
        preventDefault() {},
      });
    },
  };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe("web chat page", () => {
  it("offers reactions and reply only on cards and notices, not on plain replies", async () => {
    const card = { ...message("c-1", "Approval needed K7QF"), buttons: [{ label: "✅ Approve", data: "a:1" }] };
    const page = loadPage({ history: [card, message("c-2", "Status · all quiet")] });
    await settle();
    page.stream().open();
    await settle();
    const controls = (bubble: FakeElement) =>
      bubble.children
        .filter((c) => c.className === "meta")
        .flatMap((meta) => meta.children.filter((c) => c.tag === "button").map((b) => b.textContent));
    const [cardBubble, statusBubble] = page.el("log").children;
    expect(controls(cardBubble!)).toEqual(["✅", "❌", "↩ reply"]);
    expect(controls(statusBubble!)).toEqual([]);
  });

  it("shows the history in order, appends new messages at the bottom and edits in place", async () => {
    const page = loadPage({
      history: [message("a1b2-1", "Approval needed K7QF"), message("a1b2-2", "status", "operator")],
    });
    await settle();
    page.stream().open();
    await settle();
    expect(page.bubbles()).toEqual(["Approval needed K7QF", "status"]);
    page.stream().emit("message", message("a1b2-10", "All quiet"));
    page.stream().emit("update", message("a1b2-1", "✅ Approved K7QF"));
    expect(page.bubbles()).toEqual(["✅ Approved K7QF", "status", "All quiet"]);
  });

  it("after a restart it says so, reloads the new history cleanly and keeps appending at the bottom", async () => {
    const server = { history: [message("1", "Approval needed K7QF"), message("2", "hello", "operator")] };
    const page = loadPage(server);
    await settle();
    page.stream().open();
    await settle();
    page.stream().emit("bye", {});
    expect(page.el("status").hidden).toBe(false);
    expect(page.el("status").textContent).toMatch(/restarting/);
    // The new run starts its history again, even with ids that look like the old ones.
    server.history = [message("1", "Approval needed K7QF (posted again)")];
    page.stream().fail();
    expect(page.el("status").textContent).toMatch(/Reconnecting/);
    page.stream().open();
    await settle();
    expect(page.bubbles()).toEqual(["Approval needed K7QF (posted again)"]);
    expect(page.el("status").textContent).toMatch(/Reconnected/);
    page.stream().emit("message", message("2", "approve K7QF", "operator"));
    page.stream().emit("message", message("3", "✅ Approved K7QF"));
    expect(page.bubbles()).toEqual(["Approval needed K7QF (posted again)", "approve K7QF", "✅ Approved K7QF"]);
  });

  it("applies events that arrive while the history loads after the history, in order", async () => {
    let release!: (messages: Message[]) => void;
    const page = loadPage({ history: [], messages: () => new Promise((r) => (release = r)) });
    await settle();
    page.stream().open();
    await settle();
    page.stream().emit("message", message("b-3", "third"));
    page.stream().emit("update", message("b-1", "first, edited"));
    release([message("b-1", "first"), message("b-2", "second")]);
    await settle();
    expect(page.bubbles()).toEqual(["first, edited", "second", "third"]);
  });

  it("retries by itself when the browser gave up on the stream", async () => {
    const page = loadPage({ history: [] });
    await settle();
    const first = page.stream();
    first.fail(true);
    page.runTimers();
    expect(page.stream()).not.toBe(first);
    expect(first.closed).toBe(true);
  });

  it("a send that fails keeps the text in the box and says so; the next one clears both", async () => {
    let down = true;
    const page = loadPage({
      history: [],
      send: (body) => {
        if (down) throw new TypeError("fetch failed");
        return new Response(JSON.stringify({ message: message("c-1", (body as { text: string }).text, "operator") }), {
          status: 200,
        });
      },
    });
    await settle();
    await page.submit("approve K7QF");
    expect(page.el("text").value).toBe("approve K7QF");
    expect(page.el("problem").hidden).toBe(false);
    expect(page.el("problem").textContent).toMatch(/Not sent .*still in the box/);
    down = false;
    await page.submit("approve K7QF");
    expect(page.el("text").value).toBe("");
    expect(page.el("problem").hidden).toBe(true);
    expect(page.sent).toHaveLength(2);
  });

  it("a send the server refuses keeps the text and shows the server's reason", async () => {
    const page = loadPage({
      history: [],
      send: () =>
        new Response(JSON.stringify({ error: "not_found", message: "no such operator in the web chat" }), {
          status: 404,
        }),
    });
    await settle();
    await page.submit("pending");
    expect(page.el("text").value).toBe("pending");
    expect(page.el("problem").textContent).toMatch(/no such operator/);
  });
});
