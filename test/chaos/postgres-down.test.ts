/**
 * PostgreSQL unreachable (a private server, stopped for real): sources get 503 with
 * Retry-After, never 500, and nothing half-written; once it is back, creates succeed again
 * and every acknowledged request is stored. signoff runs as a real process.
 */
import { afterEach, describe, expect, it } from "vitest";
import { call, sleep } from "../../bench/chaos-signoff.js";
import { usePrivateSignoff } from "../helpers/private-signoff.js";

const chaos = usePrivateSignoff();

afterEach(async () => {
  if (!(await chaos.services.postgres.running())) await chaos.services.postgres.start();
  // Outliving the outage is part of every test here: a crash shows how the process died.
  await sleep(300);
  expect(chaos.signoff.alive(), `signoff died: ${chaos.signoff.lastExit()}`).toBe(true);
});

const create = (title: string) =>
  call(chaos.signoff.url, "POST", "/api/approvals", { body: { title, gate: "medium" }, timeoutMs: 8_000 });

async function storedTitles(prefix: string): Promise<Set<string>> {
  const { rows } = await chaos.signoff.pool.query<{ title: string }>(
    "SELECT title FROM approvals WHERE title LIKE $1",
    [`${prefix}%`],
  );
  return new Set(rows.map((r) => r.title));
}

describe("PostgreSQL down", () => {
  it("answers creates with 503 and Retry-After (never 500) while down, 201 once back, and stores exactly the acknowledged ones", async () => {
    expect((await create("pg before")).status).toBe(201);
    await chaos.services.postgres.stop("fast");

    const during = await Promise.all(Array.from({ length: 12 }, (_, i) => create(`pg down ${i}`)));
    for (const r of during) {
      expect(r.status, `while PostgreSQL is down: ${r.error ?? JSON.stringify(r.body)}`).toBe(503);
      expect(r.headers?.get("retry-after"), "a 503 says when to retry").toMatch(/^\d+$/);
      expect(r.ms).toBeLessThan(5_000);
    }

    await chaos.services.postgres.start();
    const until = Date.now() + 15_000;
    let back = await create("pg back 0");
    for (let i = 1; back.status !== 201 && Date.now() < until; i++) {
      await sleep(200);
      back = await create(`pg back ${i}`);
    }
    expect(back.status, "creates succeed again once PostgreSQL is back").toBe(201);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => create(`pg after ${i}`)));
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(201));

    const stored = await storedTitles("pg ");
    for (let i = 0; i < 10; i++)
      expect(stored.has(`pg after ${i}`), `acknowledged "pg after ${i}" is stored`).toBe(true);
    expect(stored.has("pg before")).toBe(true);
    // A caller that got an error has nothing half-written.
    for (let i = 0; i < 12; i++)
      expect(stored.has(`pg down ${i}`), `"pg down ${i}" got 503 yet was stored`).toBe(false);
  }, 45_000);

  it("answers /api/health with 503 naming postgres within 2 s while it is down, and 200 again on its own", async () => {
    expect((await call(chaos.signoff.url, "GET", "/api/health", { token: null })).status).toBe(200);
    await chaos.services.postgres.stop("fast");
    const down = await call(chaos.signoff.url, "GET", "/api/health", { token: null, timeoutMs: 5_000 });
    expect(down.status, down.error ?? JSON.stringify(down.body)).toBe(503);
    expect(down.ms).toBeLessThan(2_000);
    expect(down.body.down).toContain("postgres");

    await chaos.services.postgres.start();
    const until = Date.now() + 15_000;
    let health = await call(chaos.signoff.url, "GET", "/api/health", { token: null });
    while (health.status !== 200 && Date.now() < until) {
      await sleep(200);
      health = await call(chaos.signoff.url, "GET", "/api/health", { token: null });
    }
    expect(health.status, "healthy again without a restart").toBe(200);
  }, 45_000);

  it("answers /api/health with 503 within 2 s while PostgreSQL hangs (connections open, no answers)", async () => {
    expect((await call(chaos.signoff.url, "GET", "/api/health", { token: null })).status).toBe(200);
    chaos.services.postgres.freeze();
    try {
      const hung = await call(chaos.signoff.url, "GET", "/api/health", { token: null, timeoutMs: 5_000 });
      expect(hung.status, hung.error ?? JSON.stringify(hung.body)).toBe(503);
      expect(hung.ms).toBeLessThan(2_000);
      expect(hung.body.down).toContain("postgres");
    } finally {
      chaos.services.postgres.thaw();
    }
    const until = Date.now() + 15_000;
    let health = await call(chaos.signoff.url, "GET", "/api/health", { token: null });
    while (health.status !== 200 && Date.now() < until) {
      await sleep(200);
      health = await call(chaos.signoff.url, "GET", "/api/health", { token: null });
    }
    expect(health.status).toBe(200);
  }, 45_000);

  it("stays up across 15 PostgreSQL restarts with requests in flight", async () => {
    for (let round = 0; round < 15; round++) {
      await chaos.services.postgres.stop("fast");
      const down = await Promise.all(Array.from({ length: 8 }, (_, i) => create(`restart ${round} down ${i}`)));
      expect(chaos.signoff.alive(), `the process died at restart ${round + 1}: ${chaos.signoff.lastExit()}`).toBe(true);
      expect(
        down.every((r) => r.status === 503 || r.status === 201),
        JSON.stringify(down.map((r) => r.status)),
      ).toBe(true);
      await chaos.services.postgres.start();
      await sleep(300);
      await Promise.all(Array.from({ length: 8 }, (_, i) => create(`restart ${round} up ${i}`)));
      await sleep(200);
      expect(chaos.signoff.alive(), `the process died at restart ${round + 1}: ${chaos.signoff.lastExit()}`).toBe(true);
    }
  }, 50_000);

  it("keeps serving after PostgreSQL is killed -9 and recovers on its own", async () => {
    await chaos.services.postgres.kill();
    const during = await create("pg killed");
    expect(chaos.signoff.alive(), `signoff died: ${chaos.signoff.lastExit()}`).toBe(true);
    expect(during.status, during.error ?? JSON.stringify(during.body)).toBe(503);
    await chaos.services.postgres.start(); // crash recovery
    const until = Date.now() + 15_000;
    let back = await create("pg recovered 0");
    for (let i = 1; back.status !== 201 && Date.now() < until; i++) {
      await sleep(200);
      back = await create(`pg recovered ${i}`);
    }
    expect(back.status).toBe(201);
    expect(chaos.signoff.alive(), `the process is still running: ${chaos.signoff.lastExit()}`).toBe(true);
  }, 45_000);
});
