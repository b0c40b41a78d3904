/**
 * Throws the fuzz cases of `chaos-fuzz.ts` at a running signoff and tallies the answers: the API
 * by status class per route, the web chat by whether each accepted message got a reply.
 */
import { type ChaosContext, type ChaosResult, check, secondsSince } from "./chaos-report.js";
import { call, CHAOS_OPERATORS, inParallel, sleep, startSignoffProcess } from "./chaos-signoff.js";
import { fuzzApiCases, fuzzChatCases, OVERSIZE } from "./chaos-fuzz.js";

/** One answer worth showing in a report (5xx, no answer, silence). */
export interface FuzzSample {
  route: string;
  what: string;
  status: number;
  detail: string;
}

/** Tally of an API fuzz run. */
export interface ApiFuzzReport {
  sent: number;
  byClass: { "2xx": number; "4xx": number; "5xx": number; none: number };
  byStatus: Record<string, number>;
  byRoute: Record<string, Record<string, number>>;
  /** 4xx answers without a machine-readable `problems` list or `error` code. */
  unexplained4xx: number;
  /** Bodies over 1 MiB whose connection closed while the client was still sending (the 413 unread). */
  oversizeClosed: number;
  samples: FuzzSample[];
  seconds: number;
}

const classOf = (status: number) =>
  (status === 0 ? "none" : status >= 500 ? "5xx" : status >= 400 ? "4xx" : "2xx") as keyof ApiFuzzReport["byClass"];

/** Send `count` fuzzed API requests (seeded), `concurrency` at a time. */
export async function runApiFuzz(
  base: string,
  seed: number,
  count: number,
  options: { concurrency?: number; ids?: string[] } = {},
): Promise<ApiFuzzReport> {
  const t0 = performance.now();
  const cases = [...fuzzApiCases(seed, count, options.ids ?? [])];
  const report: ApiFuzzReport = {
    sent: cases.length,
    byClass: { "2xx": 0, "4xx": 0, "5xx": 0, none: 0 },
    byStatus: {},
    byRoute: {},
    unexplained4xx: 0,
    oversizeClosed: 0,
    samples: [],
    seconds: 0,
  };
  await inParallel(cases.length, options.concurrency ?? 16, async (i) => {
    const c = cases[i]!;
    const result = await call(base, c.method, c.path, {
      ...(c.raw !== undefined ? { raw: c.raw } : {}),
      ...(c.contentType ? { contentType: c.contentType } : {}),
      ...(c.token !== undefined ? { token: c.token } : {}),
      timeoutMs: 15_000,
    });
    // Over the body limit the server answers 413 and closes at once; a client still writing
    // may see EPIPE instead of the answer. That is HTTP working, not signoff failing.
    if (result.status === 0 && c.what === OVERSIZE && /EPIPE|ECONNRESET|UND_ERR_SOCKET/.test(result.error ?? "")) {
      report.oversizeClosed++;
      return;
    }
    const cls = classOf(result.status);
    report.byClass[cls]++;
    report.byStatus[result.status] = (report.byStatus[result.status] ?? 0) + 1;
    report.byRoute[c.route] ??= {};
    const route = report.byRoute[c.route]!;
    route[cls] = (route[cls] ?? 0) + 1;
    if (cls === "4xx" && !(result.body && typeof result.body === "object" && "error" in result.body))
      report.unexplained4xx++;
    // Keep a few of each kind: no-answers are rarer than 5xx and must not be crowded out.
    if ((cls === "5xx" || cls === "none") && report.samples.filter((x) => classOf(x.status) === cls).length < 15) {
      report.samples.push({
        route: c.route,
        what: c.what,
        status: result.status,
        detail: result.error ?? JSON.stringify(result.body).slice(0, 200),
      });
    }
  });
  report.seconds = Math.round(performance.now() - t0) / 1000;
  return report;
}

/** Tally of a web chat fuzz run. */
export interface ChatFuzzReport {
  sent: number;
  accepted: number;
  rejected4xx: number;
  fiveXX: number;
  noAnswer: number;
  /** Accepted messages answered by a bot message replying to them, or by a later bot message. */
  repliedThreaded: number;
  repliedLater: number;
  silent: number;
  samples: FuzzSample[];
  seconds: number;
}

interface ChatMessage {
  id: string;
  from: "bot" | "operator";
  replyTo?: string;
}

/**
 * Send `count` fuzzed chat messages (seeded) through `POST /chat/api/<operator>/send`, one chat
 * per operator in parallel and one message at a time in each, and wait up to `replyMs` for a reply.
 */
export async function runChatFuzz(
  base: string,
  seed: number,
  count: number,
  options: { replyMs?: number; operators?: string[]; stopAfterSilent?: number } = {},
): Promise<ChatFuzzReport> {
  const t0 = performance.now();
  const cases = [...fuzzChatCases(seed, count)];
  const operators = options.operators ?? CHAOS_OPERATORS.map((o) => o.name);
  const report: ChatFuzzReport = {
    sent: cases.length,
    accepted: 0,
    rejected4xx: 0,
    fiveXX: 0,
    noAnswer: 0,
    repliedThreaded: 0,
    repliedLater: 0,
    silent: 0,
    samples: [],
    seconds: 0,
  };
  const sample = (what: string, status: number, detail: string) => {
    if (report.samples.length < 25) report.samples.push({ route: "POST /chat/api/:chat/send", what, status, detail });
  };
  await Promise.all(
    operators.map(async (operator, lane) => {
      for (
        let i = lane;
        i < cases.length && report.silent < (options.stopAfterSilent ?? Infinity);
        i += operators.length
      ) {
        const c = cases[i]!;
        const sent = await call(base, "POST", `/chat/api/${operator}/send`, {
          raw: c.raw,
          token: null,
          timeoutMs: 15_000,
        });
        if (sent.status === 0) {
          report.noAnswer++;
          sample(c.what, 0, sent.error ?? "");
          continue;
        }
        if (sent.status >= 500) {
          report.fiveXX++;
          sample(c.what, sent.status, JSON.stringify(sent.body).slice(0, 200));
          continue;
        }
        if (sent.status >= 400) {
          report.rejected4xx++;
          continue;
        }
        report.accepted++;
        const id = (sent.body as { message?: { id?: string } }).message?.id;
        const replied = id ? await waitForReply(base, operator, id, options.replyMs ?? 5_000) : null;
        if (replied === "threaded") report.repliedThreaded++;
        else if (replied === "later") report.repliedLater++;
        else {
          report.silent++;
          sample(c.what, sent.status, `no reply to ${c.raw.slice(0, 120)}`);
        }
      }
    }),
  );
  report.seconds = Math.round(performance.now() - t0) / 1000;
  return report;
}

async function waitForReply(
  base: string,
  operator: string,
  id: string,
  timeoutMs: number,
): Promise<"threaded" | "later" | null> {
  const until = Date.now() + timeoutMs;
  let later = false;
  for (let delay = 5; Date.now() < until; delay = Math.min(delay * 2, 200)) {
    const history = await call(base, "GET", `/chat/api/${operator}/messages`, { token: null, timeoutMs: 5_000 });
    const messages = ((history.body as { messages?: ChatMessage[] })?.messages ?? []) as ChatMessage[];
    const at = messages.findIndex((m) => m.id === id);
    const after = at >= 0 ? messages.slice(at + 1) : [];
    if (messages.some((m) => m.from === "bot" && m.replyTo === id)) return "threaded";
    // Some answers (a decision's confirmation, a broadcast) are not threaded: count them only
    // after a grace period, in case the threaded one is still on its way.
    if (after.some((m) => m.from === "bot")) {
      if (later) return "later";
      later = true;
    }
    await sleep(delay);
  }
  return later ? "later" : null;
}

/** 10,000 fuzzed bodies over every API route: 0 × 5xx, the process stays up. */
export async function scenarioFuzzApi(ctx: ChaosContext, count = 10_000): Promise<ChaosResult> {
  const t0 = performance.now();
  const p = await startSignoffProcess({ postgres: ctx.postgres, redis: ctx.redis });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await call(p.url, "POST", "/api/approvals", { body: { title: `fuzz target ${i}`, gate: "medium" } });
      if (r.status === 201) ids.push(r.body.id as string);
    }
    const report = await runApiFuzz(p.url, ctx.seed, count, { ids });
    const health = await call(p.url, "GET", "/api/health", { token: null });
    const errorLogs = p.logs.filter((l) => (l.level ?? 0) >= 50).length;
    return {
      name: "fuzz-api",
      checks: [
        check(`${count} fuzzed requests: 5xx = 0`, report.byClass["5xx"], report.byClass["5xx"] === 0),
        check("no answer (timeout, reset) = 0", report.byClass.none, report.byClass.none === 0),
        check(
          "4xx vs 2xx (info)",
          `${report.byClass["4xx"]} × 4xx, ${report.byClass["2xx"]} × 2xx, ${report.oversizeClosed} closed on a >1 MiB body`,
          null,
        ),
        check("4xx without an error code = 0", report.unexplained4xx, report.unexplained4xx === 0),
        check(
          "process up and healthy afterwards",
          `${p.alive() ? "up" : "DOWN"}, health ${health.status}`,
          p.alive() && health.status === 200,
        ),
        check("error-level log lines (info)", errorLogs, null),
      ],
      numbers: { seed: ctx.seed, ...report },
      seconds: secondsSince(t0),
    };
  } finally {
    await p.remove();
  }
}

/** 5,000 fuzzed web chat messages: 0 × 5xx, the process stays up, every accepted message answered. */
export async function scenarioFuzzChat(ctx: ChaosContext, count = 5_000): Promise<ChaosResult> {
  const t0 = performance.now();
  const p = await startSignoffProcess({ postgres: ctx.postgres, redis: ctx.redis });
  try {
    const report = await runChatFuzz(p.url, ctx.seed, count);
    const health = await call(p.url, "GET", "/api/health", { token: null });
    return {
      name: "fuzz-chat",
      checks: [
        check(`${count} fuzzed chat messages: 5xx = 0`, report.fiveXX, report.fiveXX === 0),
        check("no answer (timeout, reset) = 0", report.noAnswer, report.noAnswer === 0),
        check(
          "accepted messages without a reply (silence) = 0",
          `${report.silent}/${report.accepted}`,
          report.accepted > 0 && report.silent === 0,
        ),
        check("rejected with 4xx (info)", report.rejected4xx, null),
        check(
          "process up and healthy afterwards",
          `${p.alive() ? "up" : "DOWN"}, health ${health.status}`,
          p.alive() && health.status === 200,
        ),
      ],
      numbers: { seed: ctx.seed, ...report },
      seconds: secondsSince(t0),
    };
  } finally {
    await p.remove();
  }
}
