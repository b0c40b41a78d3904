/**
 * Seeded generators of hostile API bodies and chat messages: NUL bytes and lone surrogates in
 * text fields, metadata nested 5,000 deep, huge numbers, wrong types, unknown fields, broken
 * JSON. The same seed gives the same cases, so a failure can be replayed.
 */
import { prng } from "../test/helpers/prng.js";

/** One HTTP request to throw at the API; `raw` is the exact body text when set. */
export interface FuzzCase {
  route: string;
  method: "GET" | "POST";
  path: string;
  raw?: string;
  contentType?: string;
  token?: string | null;
  /** What was done to the valid body, for the report. */
  what: string;
}

// Markers put into values and swapped for raw JSON text after JSON.stringify, because a JS
// string cannot carry a lone surrogate through fetch (it would become U+FFFD).
/** The `what` of bodies over the 1 MiB limit. */
export const OVERSIZE = "body over 1 MiB";

const RAW: Record<string, string> = {
  '"@@LONE_HIGH@@"': '"a\\ud800b"',
  '"@@LONE_LOW@@"': '"\\udfffz"',
  '"@@REVERSED@@"': '"\\udc00\\ud800"',
  '"@@DEEP_OBJECT@@"': `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`,
  '"@@DEEP_ARRAY@@"': `${"[".repeat(5_000)}${"]".repeat(5_000)}`,
  '"@@HUGE@@"': "1e309",
  '"@@NEG_HUGE@@"': "-1e309",
  '"@@BIGINT@@"': "123456789012345678901234567890",
  '"@@TINY@@"': "1e-320",
};

const WRONG_TYPES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  "",
  " ",
  [],
  [1, "x"],
  {},
  { a: 1 },
  "@@DEEP_OBJECT@@",
  "@@DEEP_ARRAY@@",
];
const NUMBERS: unknown[] = [
  "@@HUGE@@",
  "@@NEG_HUGE@@",
  "@@BIGINT@@",
  "@@TINY@@",
  1e308,
  -1e308,
  2 ** 53 + 1,
  -0,
  0,
  0.1,
  2 ** 31,
  -(2 ** 63),
  "12",
  "1e3",
];
const BROKEN_BODIES = [
  "{",
  "}",
  "null",
  "[]",
  '"just a string"',
  "123",
  "",
  '{"title": }',
  '{"a":1,}',
  "\u0000",
  "NaN",
  "{'title':'x'}",
  `{"title":"${"x".repeat(100)}"`,
];

/** Text that breaks naive handling: NUL, surrogates, control characters, giant strings. */
function nastyText(rand: () => number): { value: string; what: string } {
  const pick = Math.floor(rand() * 12);
  switch (pick) {
    case 0:
      return { value: "before\u0000after", what: "NUL inside" };
    case 1:
      return { value: "\u0000", what: "NUL only" };
    case 2:
      return { value: "@@LONE_HIGH@@", what: "lone high surrogate" };
    case 3:
      return { value: "@@LONE_LOW@@", what: "lone low surrogate" };
    case 4:
      return { value: "@@REVERSED@@", what: "reversed surrogates" };
    case 5:
      return { value: "x".repeat(rand() < 0.5 ? 5_000 : 200_000), what: "very long" };
    case 6:
      return { value: "\u0001\u0002\u001b[31m\u007f\u0085\u2028\u2029", what: "control characters" };
    case 7:
      return { value: "\u202eevil\u200b\u200d\ufeff", what: "bidi and zero-width" };
    case 8:
      return { value: "'; DROP TABLE approvals; --", what: "SQL text" };
    case 9:
      return { value: "{{title}} {{{x}}} {{#a}}", what: "template syntax" };
    case 10:
      return { value: "   ", what: "blank" };
    default:
      return { value: `${"🚀".repeat(150)}é\u0301`, what: "emoji and combining" };
  }
}

interface RouteSpec {
  route: string;
  method: "GET" | "POST";
  path: (rand: () => number, ids: string[]) => string;
  /** A valid body (POST only) and its text fields, which get the nasty text. */
  body?: (rand: () => number) => Record<string, unknown>;
  textFields?: string[];
  numberFields?: string[];
  weight: number;
}

const uuid = (rand: () => number) =>
  "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, () => Math.floor(rand() * 16).toString(16));
const oneOf = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
const BAD_IDS = [
  "not-a-uuid",
  "%00",
  "%F0%9F%9A%80",
  "..%2F..%2Fetc%2Fpasswd",
  "x".repeat(3_000),
  "00000000-0000-0000-0000-000000000000",
  "%ED%A0%80",
  "1;DROP",
];
const QUERY_NOISE = [
  "status=bogus",
  "status=%00",
  "status=pending&status=approved",
  "limit=-1",
  "limit=1e999",
  "limit=abc",
  "limit=500",
  "limit=501",
  "extra=1",
  "status[]=x",
  "limit=%ED%A0%80",
];

const ROUTES: RouteSpec[] = [
  {
    route: "POST /api/approvals",
    method: "POST",
    path: () => "/api/approvals",
    body: (rand) => ({
      title: "deploy api",
      reason: "release",
      agent: "forge",
      gate: oneOf(rand, ["auto", "low", "medium", "hard", "prohibited"]),
      preview: "diff --git",
      deadlineSeconds: 600,
      objectionSeconds: 30,
      approvers: { roles: ["approver"], quorum: 1 },
      idempotencyKey: `k-${Math.floor(rand() * 1e9)}`,
      metadata: { ticket: "OPS-1", nested: { ok: true } },
    }),
    textFields: ["title", "reason", "agent", "preview", "idempotencyKey", "callbackUrl"],
    numberFields: ["deadlineSeconds", "objectionSeconds"],
    weight: 4,
  },
  {
    route: "GET /api/approvals",
    method: "GET",
    path: (rand) => `/api/approvals?${oneOf(rand, ["status=pending", "", ...QUERY_NOISE])}`,
    weight: 1,
  },
  {
    route: "GET /api/approvals/:id",
    method: "GET",
    path: (rand, ids) =>
      `/api/approvals/${rand() < 0.4 && ids.length ? oneOf(rand, ids) : rand() < 0.5 ? uuid(rand) : oneOf(rand, BAD_IDS)}${rand() < 0.5 ? `?wait=${oneOf(rand, ["0", "0.2", "-1", "61", "abc", "1e999", "%00", "1"])}` : ""}`,
    weight: 1,
  },
  {
    route: "POST /api/approvals/:id/cancel",
    method: "POST",
    path: (rand, ids) =>
      `/api/approvals/${rand() < 0.5 && ids.length ? oneOf(rand, ids) : rand() < 0.5 ? uuid(rand) : oneOf(rand, BAD_IDS)}/cancel`,
    body: () => ({}),
    weight: 1,
  },
  {
    route: "POST /api/tasks",
    method: "POST",
    path: () => "/api/tasks",
    body: (rand) => ({
      id: `task-${Math.floor(rand() * 50)}`,
      title: "migrate db",
      state: oneOf(rand, ["backlog", "ready", "in-progress", "review", "done", "failed"]),
      agent: "forge",
      priority: 1,
      attempts: 0,
      error: "none",
    }),
    textFields: ["id", "title", "agent", "error", "state"],
    numberFields: ["priority", "attempts"],
    weight: 2,
  },
  {
    route: "POST /api/spend",
    method: "POST",
    path: () => "/api/spend",
    body: (rand) => ({
      amount: Math.round(rand() * 1000) / 100,
      currency: "USD",
      agent: "forge",
      model: "gpt",
      at: oneOf(rand, [
        "2026-01-01T00:00:00Z",
        "2025-06-30T12:00:00.123+02:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
      ]),
    }),
    textFields: ["currency", "agent", "model", "at"],
    numberFields: ["amount"],
    weight: 2,
  },
  {
    route: "POST /api/heartbeats",
    method: "POST",
    path: () => "/api/heartbeats",
    body: () => ({ agent: "forge", status: "ok", detail: "alive" }),
    textFields: ["agent", "status", "detail"],
    weight: 2,
  },
  {
    route: "POST /api/notify",
    method: "POST",
    path: () => "/api/notify",
    body: (rand) => ({ text: "build finished", severity: oneOf(rand, ["info", "warning", "critical"]) }),
    textFields: ["text", "severity"],
    weight: 2,
  },
  {
    route: "GET /api/commands",
    method: "GET",
    path: (rand) =>
      `/api/commands?${oneOf(rand, ["", "after=0", "after=999999999999999999", "after=-1", "after=%00", "limit=0", "limit=1e999", "after=1&limit=500", "bogus=1"])}`,
    weight: 1,
  },
  {
    route: "POST /api/commands/ack",
    method: "POST",
    path: () => "/api/commands/ack",
    body: (rand) => ({ ids: [String(Math.floor(rand() * 100)), "999999999999999999"] }),
    weight: 1,
  },
];

function mutateBody(rand: () => number, spec: RouteSpec): { body: unknown; what: string } {
  const body: Record<string, unknown> = spec.body!(rand);
  const choice = rand();
  if (choice < 0.08) return { body: oneOf(rand, WRONG_TYPES), what: "whole body of a wrong type" };
  const whats: string[] = [];
  const mutations = 1 + Math.floor(rand() * 3);
  for (let m = 0; m < mutations; m++) {
    const kind = rand();
    const fields = Object.keys(body);
    if (kind < 0.4 && spec.textFields?.length) {
      const field = oneOf(rand, spec.textFields);
      const t = nastyText(rand);
      body[field] = t.value;
      whats.push(`${field}: ${t.what}`);
    } else if (kind < 0.55 && spec.numberFields?.length) {
      const field = oneOf(rand, spec.numberFields);
      body[field] = oneOf(rand, NUMBERS);
      whats.push(`${field}: number ${String(body[field])}`);
    } else if (kind < 0.7 && fields.length) {
      const field = oneOf(rand, fields);
      body[field] = oneOf(rand, WRONG_TYPES);
      whats.push(`${field}: wrong type`);
    } else if (kind < 0.8 && "metadata" in body) {
      body.metadata = oneOf(rand, [
        "@@DEEP_OBJECT@@",
        { deep: "@@DEEP_ARRAY@@" },
        { big: "x".repeat(20_000) },
        { "\u0000key": "\u0000" },
        { s: "@@LONE_HIGH@@" },
        { n: "@@HUGE@@" },
      ]);
      whats.push("metadata: deep, big or nasty");
    } else if (kind < 0.9) {
      const key = oneOf(rand, ["__proto__", "constructor", "extra", "\u0000", "@@LONE_HIGH@@", "toString", "🚀"]);
      // defineProperty makes "__proto__" an own key, so JSON.stringify sends it.
      Object.defineProperty(body, key, {
        value: key === "__proto__" ? { polluted: true } : 1,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      whats.push(`unknown field ${JSON.stringify(key)}`);
    } else if (fields.length) {
      const field = oneOf(rand, fields);
      delete body[field];
      whats.push(`${field} missing`);
    }
  }
  return { body, what: whats.join("; ") || "valid" };
}

/** Serialize with the raw markers expanded (lone surrogates, 5,000-deep nesting, 1e309). */
export function toRawJson(value: unknown): string {
  let text = JSON.stringify(value) ?? "null";
  for (const [marker, raw] of Object.entries(RAW)) text = text.split(marker).join(raw);
  return text;
}

/** `count` API requests over every route, deterministic for a seed. `ids` are existing approvals. */
export function* fuzzApiCases(seed: number, count: number, ids: string[] = []): Generator<FuzzCase> {
  const rand = prng(seed);
  const total = ROUTES.reduce((n, r) => n + r.weight, 0);
  for (let i = 0; i < count; i++) {
    let pick = rand() * total;
    const spec =
      ROUTES.find((r) => {
        pick -= r.weight;
        return pick < 0;
      }) ?? ROUTES[0]!;
    const path = spec.path(rand, ids);
    const token = rand() < 0.03 ? oneOf(rand, [null, "wrong-token"]) : undefined;
    if (spec.method === "GET") {
      yield { route: spec.route, method: "GET", path, what: "query/path", ...(token !== undefined ? { token } : {}) };
      continue;
    }
    const framing = rand();
    if (framing < 0.05) {
      yield { route: spec.route, method: "POST", path, raw: oneOf(rand, BROKEN_BODIES), what: "broken JSON" };
    } else if (framing < 0.07) {
      yield {
        route: spec.route,
        method: "POST",
        path,
        raw: toRawJson(spec.body!(rand)),
        contentType: oneOf(rand, [
          "text/plain",
          "application/x-www-form-urlencoded",
          "application/json; charset=latin1",
        ]),
        what: "wrong content type",
      };
    } else if (framing < 0.08) {
      yield { route: spec.route, method: "POST", path, raw: `{"title":"${"y".repeat(1_100_000)}"}`, what: OVERSIZE };
    } else {
      const { body, what } = mutateBody(rand, spec);
      yield {
        route: spec.route,
        method: "POST",
        path,
        raw: toRawJson(body),
        what,
        ...(token !== undefined ? { token } : {}),
      };
    }
  }
}

/** A chat message to send, as raw JSON for `POST /chat/api/<operator>/send`. */
export interface ChatCase {
  raw: string;
  what: string;
}

const PHRASES = [
  "status",
  "STATUS",
  "/status",
  "Status?",
  "queue",
  "how's the queue?",
  "spend",
  "what did we spend today?",
  "what did we spend yesterday?",
  "failures",
  "any failures?",
  "pending",
  "help",
  "/help",
  "digest",
  "kill task task-1",
  "retry task task-2",
  "prioritise task task-3",
  "prioritize task nope",
  "pause",
  "resume",
  "rules",
  "revoke rule 42",
  "away until tomorrow delegate to eve",
  "back",
  "pair ZZZZ as viewer",
  "approve K7QF",
  "reject K7QF too risky",
  "modify K7QF use staging",
  "yes",
  "no",
  "✅",
  "❌",
  "📝 use staging",
  "always",
  "👍",
  "hello",
  "?",
];

/** `count` chat messages: commands, near-commands and garbage, deterministic for a seed. */
export function* fuzzChatCases(seed: number, count: number): Generator<ChatCase> {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const r = rand();
    let text: string;
    let what: string;
    if (r < 0.35) {
      text = oneOf(rand, PHRASES);
      what = "command";
    } else if (r < 0.6) {
      const t = nastyText(rand);
      text = `${oneOf(rand, PHRASES)} ${t.value}`;
      what = `command + ${t.what}`;
    } else if (r < 0.85) {
      const t = nastyText(rand);
      text = t.value;
      what = t.what;
    } else {
      text = Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
        String.fromCodePoint(0x20 + Math.floor(rand() * 0x2fff)),
      ).join("");
      what = "random code points";
    }
    if (text.length > 3_900 && rand() < 0.7) text = text.slice(0, 3_900);
    const body: Record<string, unknown> = { text };
    if (rand() < 0.1) body.replyTo = oneOf(rand, ["1", "999999", "x".repeat(50), "@@LONE_HIGH@@", ""]);
    yield { raw: toRawJson(body), what };
  }
}
