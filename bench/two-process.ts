/**
 * One signoff process vs two on the same PostgreSQL schema and Redis prefix (real `src/main.ts`
 * processes): approvals created per second by the same 50 clients (spread over both, or all on
 * one), and how late low-gate objection windows end. On a small machine the second process
 * competes for the same cores, so the ratio shows the cost of coordination, not a speed-up.
 */
import { Agent, request } from "node:http";
import pg from "pg";
import { cleanupTestInstance, DATABASE_URL, SOURCE_TOKEN, uniqueName } from "../test/helpers/harness.js";
import { startSharedSignoffs, writeConfigFile } from "../test/helpers/shared-signoffs.js";
import type { BenchResult } from "./run.js";
import { percentile, runPool } from "./stats.js";

const CREATES = Number(process.env.BENCH_TWO_PROCESS_COUNT ?? 3_000);
const TIMERS = Math.round(CREATES / 3);
const CLIENTS = 50;
const SPREAD_MS = 5_000;

/** POST a JSON body as the test source; resolves with the status and the parsed answer. */
function post(url: URL, agent: Agent, body: unknown): Promise<{ status: number; id?: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${SOURCE_TOKEN}`,
          "content-length": Buffer.byteLength(text),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { id?: string };
          resolve({ status: res.statusCode ?? 0, id: answer.id });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

interface Run {
  createsPerSecond: number;
  createP99Ms: number;
  createFailures: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  decidedByWindow: number;
}

/** `processes` signoffs on one fresh schema: creates through them in turn, then low windows. */
async function measure(processes: number): Promise<Run> {
  const schema = uniqueName("bench2p");
  const prefix = uniqueName("q");
  const configFile = writeConfigFile({ operators: [{ name: "adam", roles: ["owner", "approver"] }] });
  const names = Array.from({ length: processes }, (_, i) => String.fromCharCode(97 + i));
  const signoffs = await startSharedSignoffs({ names, schema, prefix, configFile });
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const urls = signoffs.map((s) => new URL("/api/approvals", s.url));
  // Client k always talks to the same process, as a load balancer with sticky connections would.
  const urlOf = (k: number) => urls[k % urls.length]!;
  const db = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${schema}` });
  await db.connect();
  try {
    const body = (i: number) => ({ title: `deploy ${i}`, gate: "medium", deadlineSeconds: 3600 });
    await runPool(300, CLIENTS, async (i) => void (await post(urlOf(i), agent, body(i)))); // warm up
    const latencies: number[] = [];
    let failures = 0;
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, k) => {
        while (next < CREATES) {
          const t0 = performance.now();
          const { status } = await post(urlOf(k), agent, body(next++));
          latencies.push(performance.now() - t0);
          if (status !== 201) failures++;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    if (failures === CREATES) throw new Error(`every create failed (${processes} process(es))`);

    // The web chat shows cards one after another per chat: let the cards above be shown first, so
    // the notices below are not stuck behind them (their windows count from the notice).
    const shown = async () =>
      (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM card_refs")).rows[0]!.n >= CREATES + 300;
    while (!(await shown())) await new Promise((r) => setTimeout(r, 100));

    // Low windows ending spread over SPREAD_MS, well after their creation: the processes' timer
    // workers claim from one timer set, and each window must end once, on time.
    const firstDue = Date.now() + 8_000;
    const lows: string[] = [];
    await runPool(TIMERS, CLIENTS, async (i) => {
      const due = firstDue + (i * SPREAD_MS) / TIMERS;
      const r = await post(urlOf(i), agent, {
        title: `low ${i}`,
        gate: "low",
        objectionSeconds: (due - Date.now()) / 1000,
      });
      if (r.status === 201 && r.id) lows.push(r.id);
    });
    for (;;) {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM approvals WHERE id = ANY($1::uuid[]) AND status = 'pending' AND effective_gate = 'low'",
        [lows],
      );
      if (rows[0]!.n === 0) break;
      if (Date.now() > firstDue + SPREAD_MS + 30_000) throw new Error(`${rows[0]!.n} low windows never ended`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { rows } = await db.query<{ late: number }>(
      `SELECT extract(epoch FROM (decided_at - objection_ends_at)) * 1000 AS late
         FROM approvals WHERE id = ANY($1::uuid[]) AND decided_by = 'objection-window'`,
      [lows],
    );
    const lateness = rows.map((r) => Number(r.late));
    return {
      createsPerSecond: CREATES / seconds,
      createP99Ms: percentile(latencies, 99),
      createFailures: failures,
      latenessP50Ms: percentile(lateness, 50),
      latenessP99Ms: percentile(lateness, 99),
      decidedByWindow: lateness.length,
    };
  } finally {
    agent.destroy();
    await db.end();
    await Promise.all(signoffs.map((s) => s.stop()));
    await cleanupTestInstance(schema, prefix);
  }
}

/** The `two-process` section: the same load through one process, then through two. */
export async function benchTwoProcess(): Promise<BenchResult> {
  const one = await measure(1);
  const two = await measure(2);
  const metrics = {
    creates: CREATES,
    oneCreatesPerSecond: one.createsPerSecond,
    twoCreatesPerSecond: two.createsPerSecond,
    createsRatio: two.createsPerSecond / one.createsPerSecond,
    oneCreateP99Ms: one.createP99Ms,
    twoCreateP99Ms: two.createP99Ms,
    createFailures: one.createFailures + two.createFailures,
    lowWindows: TIMERS,
    oneDecidedByWindow: one.decidedByWindow,
    twoDecidedByWindow: two.decidedByWindow,
    oneLatenessP50Ms: one.latenessP50Ms,
    twoLatenessP50Ms: two.latenessP50Ms,
    oneLatenessP99Ms: one.latenessP99Ms,
    twoLatenessP99Ms: two.latenessP99Ms,
  };
  return {
    name: "two-process",
    metrics,
    targets: { createFailures: "= 0", twoLatenessP99Ms: "≤ 50", twoDecidedByWindow: `= ${TIMERS}` },
    met: metrics.createFailures === 0 && two.latenessP99Ms <= 50 && two.decidedByWindow === TIMERS,
    notes: "creates by 50 clients spread over the processes; on 2 cores a second process competes for the same CPUs",
  };
}
