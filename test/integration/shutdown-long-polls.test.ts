/**
 * Shutting down answers the long polls that are waiting (`?wait=N`) with the record as it stands,
 * so clients get a response and poll again, instead of a dropped connection.
 */
import { describe, expect, it } from "vitest";
import { api, cleanupTestInstance, startTestSignoff } from "../helpers/harness.js";

describe("shutdown with long polls open", () => {
  it("answers each waiting poll with the pending record before closing", async () => {
    const s = await startTestSignoff();
    try {
      const created = await api(s, "POST", "/api/approvals", { title: "deploy", gate: "medium" });
      const polls = Array.from({ length: 5 }, () => api(s, "GET", `/api/approvals/${created.body.id}?wait=30`));
      await new Promise((r) => setTimeout(r, 300)); // all five are waiting
      const started = Date.now();
      await s.close();
      const answers = await Promise.all(polls);
      expect(Date.now() - started).toBeLessThan(3_000);
      for (const a of answers)
        expect(a).toMatchObject({ status: 200, body: { id: created.body.id, status: "pending" } });
    } finally {
      await s.close();
      await cleanupTestInstance(s.schema, s.prefix);
    }
  });
});
