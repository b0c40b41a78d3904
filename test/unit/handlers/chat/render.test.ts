/**
 * Prompt templates (every message lives in `prompts/`): headers, and one card rendered
 * in each channel's markup.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { PLATFORMS } from "../../../../src/bot/platforms.js";
import { createRenderer, type Renderer } from "../../../../src/handlers/chat/render.js";

const PROMPTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "prompts");
const TEMPLATES = readdirSync(PROMPTS)
  .filter((f) => f.endsWith(".mustache"))
  .sort();

let r: Renderer;
beforeAll(() => {
  r = createRenderer(PLATFORMS);
});

describe("prompts/", () => {
  it("holds the templates the chat contract needs", () => {
    for (const name of [
      "approval-card",
      "approval-outcome",
      "objection-notice",
      "auto-notice",
      "prohibited-advisory",
      "already-decided",
    ]) {
      expect(TEMPLATES).toContain(`${name}.mustache`);
    }
  });

  it.each(TEMPLATES)("%s starts with a {{! name: … Fields: … }} header naming itself", (file) => {
    const text = readFileSync(join(PROMPTS, file), "utf8");
    const first = text.split("\n")[0]!;
    const m = /^\{\{! ([a-z0-9-]+): (.+) Fields: (.+) \}\}$/.exec(first);
    expect(m, first).not.toBeNull();
    expect(m![1]).toBe(file.replace(/\.mustache$/, ""));
  });

  it.each(TEMPLATES)("%s renders without leaking the header or markup tags", (file) => {
    const name = file.replace(/\.mustache$/, "");
    expect(r.has(name)).toBe(true);
    for (const format of ["html", "whatsapp", "plain"] as const) {
      const out = r.render(name, format, { code: "K7QF", title: "t" });
      expect(out).not.toMatch(/\{\{|\}\}/);
      expect(out).not.toContain("Fields:");
      expect(out).toBe(out.trim());
      expect(out).not.toMatch(/\n{3,}/);
    }
  });
});

describe("channel formats", () => {
  it("speaks the markup each platform declares: Telegram html, WhatsApp whatsapp, web chat plain", () => {
    expect(r.formatOf("telegram")).toBe("html");
    expect(r.formatOf("whatsapp")).toBe("whatsapp");
    expect(r.formatOf("webchat")).toBe("plain");
  });

  it("takes each channel's markup from the facts it is given, not from a table of its own", () => {
    const swapped = createRenderer({
      telegram: { format: "plain" },
      whatsapp: { format: "html" },
      webchat: { format: "whatsapp" },
    });
    expect(swapped.formatOf("telegram")).toBe("plain");
    expect(swapped.formatOf("whatsapp")).toBe("html");
    expect(swapped.formatOf("webchat")).toBe("whatsapp");
  });
});

describe("approval-card", () => {
  const full = {
    code: "K7QF",
    title: "Deploy <b>api</b> & db",
    reason: "fix for 5 < 6",
    agent: "deployer",
    gate: "hard",
    deadline: "Tue 4 Mar 22:00 NZDT",
    preview: "UPDATE t SET a = 1 WHERE b < 2",
    quorum: 2,
    votes: "adam",
  };

  it("html: bold tags, user text escaped", () => {
    const out = r.render("approval-card", "html", full);
    expect(out.split("\n")).toEqual([
      "<b>🔐 Approval needed · K7QF</b>",
      "<b>What:</b> Deploy &lt;b&gt;api&lt;/b&gt; &amp; db",
      "<b>Why:</b> fix for 5 &lt; 6",
      "<b>Agent:</b> deployer",
      "<b>Risk:</b> hard",
      "<b>Deadline:</b> Tue 4 Mar 22:00 NZDT",
      "<b>Needs:</b> 2 approvals",
      "<b>Approvals so far:</b> adam",
      "<b>Preview:</b>",
      "<pre>UPDATE t SET a = 1 WHERE b &lt; 2</pre>",
      "",
      "Reply ✅ approve | ❌ reject | 📝 modify",
    ]);
  });

  it("html: an escaped code inside bold stays escaped", () => {
    expect(r.render("approval-card", "html", { ...full, code: "<i>" })).toContain(
      "<b>🔐 Approval needed · &lt;i&gt;</b>",
    );
  });

  it("whatsapp: *bold*, ``` blocks, text as written", () => {
    const out = r.render("approval-card", "whatsapp", full);
    expect(out).toContain("*🔐 Approval needed · K7QF*");
    expect(out).toContain("*What:* Deploy <b>api</b> & db");
    expect(out).toContain("```UPDATE t SET a = 1 WHERE b < 2```");
    expect(out).not.toContain("&lt;");
    expect(out).not.toContain("&amp;");
    expect(out).not.toContain("<b>What");
    expect(out.split("\n").at(-1)).toBe("Reply ✅ approve | ❌ reject | 📝 modify");
  });

  it("plain: no markup at all", () => {
    const out = r.render("approval-card", "plain", full);
    expect(out).toContain("🔐 Approval needed · K7QF\nWhat: Deploy <b>api</b> & db\nWhy: fix for 5 < 6");
    expect(out).toContain("Preview:\nUPDATE t SET a = 1 WHERE b < 2");
    expect(out).not.toMatch(/\*|```|&lt;|&amp;|<pre>/);
  });

  it.each(["html", "whatsapp", "plain"] as const)(
    "%s: missing optional fields leave no empty lines behind",
    (format) => {
      for (const optional of [
        {},
        { reason: "", agent: "", deadline: "", preview: "" },
        { reason: null, agent: null, preview: null },
      ]) {
        const out = r.render("approval-card", format, {
          code: "K7QF",
          title: "Deploy api",
          gate: "medium",
          ...optional,
        });
        const plain = out.replace(/<\/?b>|\*/g, "");
        expect(plain.split("\n")).toEqual([
          "🔐 Approval needed · K7QF",
          "What: Deploy api",
          "Risk: medium",
          "",
          "Reply ✅ approve | ❌ reject | 📝 modify",
        ]);
      }
    },
  );

  it("says when pause turned the request into one for a person", () => {
    expect(r.render("approval-card", "plain", { code: "K7QF", title: "x", gate: "low", paused: true })).toContain(
      "Risk: low (paused: needs a person)",
    );
  });
});

describe("other templates with optional Why:", () => {
  it.each(["objection-notice", "prohibited-advisory"])("%s has no Why:/Agent: line without reason/agent", (name) => {
    const out = r.render(name, "plain", { code: "K7QF", title: "Rotate logs", seconds: 10, proceedsAt: "09:00" });
    expect(out).not.toMatch(/Why:|Agent:/);
    expect(out).not.toMatch(/\n{3,}/);
    const withReason = r.render(name, "plain", {
      code: "K7QF",
      title: "Rotate logs",
      reason: "disk 91%",
      agent: "janitor",
    });
    expect(withReason).toContain("Why: disk 91%");
    expect(withReason).toContain("Agent: janitor");
  });
});

describe("createRenderer", () => {
  it("an unknown template is an error naming it", () => {
    expect(r.has("no-such-template")).toBe(false);
    expect(() => r.render("no-such-template", "plain", {})).toThrow(/no-such-template/);
  });
});

/** Names a template uses (variables and sections, at any depth), markup lambdas excluded. */
function namesUsed(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\{\{\s*([#^/&{]?)\s*([A-Za-z_][\w.]*)\s*\}?\}\}/g)) {
    const name = m[2]!.split(".")[0]!;
    if (m[1] === "/" || ["b", "pre", "code_"].includes(name)) continue;
    names.add(name);
  }
  return names;
}

/** Field names a header lists, nested ones included: `items (code, title), empty`. */
function namesListed(header: string): { top: Set<string>; all: Set<string> } {
  const fields = /Fields: (.+) \}\}$/.exec(header)![1]!;
  if (/^none$/i.test(fields.trim())) return { top: new Set(), all: new Set() };
  const top = new Set<string>();
  const all = new Set<string>();
  let depth = 0;
  for (const m of fields.matchAll(/[()]|[A-Za-z_]\w*/g)) {
    if (m[0] === "(") depth++;
    else if (m[0] === ")") depth--;
    else {
      all.add(m[0]);
      if (depth === 0) top.add(m[0]);
    }
  }
  return { top, all };
}

describe("template headers match their templates", () => {
  it.each(TEMPLATES)("%s: every field it uses is listed, every listed field is used", (file) => {
    const text = readFileSync(join(PROMPTS, file), "utf8");
    const [header, ...body] = text.split("\n");
    const used = namesUsed(body.join("\n"));
    const listed = namesListed(header!);
    expect(
      [...used].filter((n) => !listed.all.has(n)),
      "used but not in the header",
    ).toEqual([]);
    expect(
      [...listed.top].filter((n) => !used.has(n)),
      "in the header but never used",
    ).toEqual([]);
  });
});
