/**
 * `POST /api/approvals` body validation: a bad body yields problems, each with the
 * field path the source must fix.
 */
import { describe, expect, it } from "vitest";
import {
  CreateApprovalBodySchema,
  GetApprovalQuerySchema,
  ListApprovalsQuerySchema,
} from "../../../../src/domain/requests/approval-requests.js";
import { toProblems } from "../../../../src/api/http-validation.js";

/** Problems for a body, or [] when it is valid. */
function problems(body: unknown): Array<{ path: string; message: string }> {
  const parsed = CreateApprovalBodySchema.safeParse(body);
  return parsed.success ? [] : toProblems(parsed.error);
}

const paths = (body: unknown) => problems(body).map((p) => p.path);

const base = { title: "Deploy api", gate: "medium" };

describe("CreateApprovalBodySchema: problems name the field", () => {
  it.each<[string, unknown, string]>([
    ["missing title", { gate: "medium" }, "title"],
    ["empty title", { ...base, title: "" }, "title"],
    ["blank title", { ...base, title: "   " }, "title"],
    ["title is a number", { ...base, title: 5 }, "title"],
    ["100 kB title", { ...base, title: "x".repeat(100_000) }, "title"],
    ["missing gate", { title: "Deploy" }, "gate"],
    ["unknown gate", { ...base, gate: "extreme" }, "gate"],
    ["gate in capitals", { ...base, gate: "MEDIUM" }, "gate"],
    ["negative deadlineSeconds", { ...base, deadlineSeconds: -1 }, "deadlineSeconds"],
    ["zero deadlineSeconds", { ...base, deadlineSeconds: 0 }, "deadlineSeconds"],
    ["deadlineSeconds over 30 days", { ...base, deadlineSeconds: 30 * 86_400 + 1 }, "deadlineSeconds"],
    ["deadlineSeconds as a string", { ...base, deadlineSeconds: "60" }, "deadlineSeconds"],
    ["negative objectionSeconds", { ...base, gate: "low", objectionSeconds: -3 }, "objectionSeconds"],
    ["unknown onTimeout", { ...base, onTimeout: "maybe" }, "onTimeout"],
    ["quorum as a string", { ...base, approvers: { quorum: "2" } }, "approvers.quorum"],
    ["quorum 0", { ...base, approvers: { quorum: 0 } }, "approvers.quorum"],
    ["fractional quorum", { ...base, approvers: { quorum: 1.5 } }, "approvers.quorum"],
    ["roles not an array", { ...base, approvers: { roles: "owner" } }, "approvers.roles"],
    ["empty roles", { ...base, approvers: { roles: [] } }, "approvers.roles"],
    ["a role that is not a string", { ...base, approvers: { roles: ["owner", 7] } }, "approvers.roles.1"],
    ["callbackUrl not a URL", { ...base, callbackUrl: "not a url" }, "callbackUrl"],
    ["callbackUrl not http(s)", { ...base, callbackUrl: "ftp://example.test/cb" }, "callbackUrl"],
    ["metadata not an object", { ...base, metadata: "x" }, "metadata"],
    ["metadata over 16 KiB", { ...base, metadata: { blob: "x".repeat(20_000) } }, "metadata"],
    ["notify not a boolean", { ...base, notify: "yes" }, "notify"],
    ["reason too long", { ...base, reason: "r".repeat(2001) }, "reason"],
    ["hard without preview", { title: "Drop table", gate: "hard" }, "preview"],
    ["hard with a blank preview", { title: "Drop table", gate: "hard", preview: "  " }, "preview"],
    [
      "onTimeout approve on hard",
      { title: "Drop table", gate: "hard", preview: "DROP TABLE x", onTimeout: "approve" },
      "onTimeout",
    ],
    ["onTimeout approve on low", { ...base, gate: "low", onTimeout: "approve" }, "onTimeout"],
    ["onTimeout approve on auto", { ...base, gate: "auto", onTimeout: "approve" }, "onTimeout"],
  ])("%s → %s", (_label, body, path) => {
    const found = problems(body);
    expect(found.map((p) => p.path)).toContain(path);
    for (const p of found) expect(p.message.length).toBeGreaterThan(0);
  });

  it("reports every bad field at once", () => {
    expect(paths({ title: 5, gate: "medium", deadlineSeconds: -1, approvers: { quorum: "2" } })).toEqual(
      expect.arrayContaining(["title", "deadlineSeconds", "approvers.quorum"]),
    );
  });

  it("rejects an unknown top-level key, naming it", () => {
    const found = problems({ ...base, titel: "typo" });
    expect(found).toEqual([{ path: "titel", message: "unknown field" }]);
  });

  it("rejects an unknown key inside approvers, naming it", () => {
    const found = problems({ ...base, approvers: { quorom: 2 } });
    expect(found).toEqual([{ path: "approvers.quorom", message: "unknown field" }]);
  });

  it.each([null, [], "body", 42])("a body that is not an object (%j) is a problem at the root", (body) => {
    expect(paths(body)).toEqual(["(body)"]);
  });
});

describe("CreateApprovalBodySchema: valid bodies", () => {
  it.each(["auto", "low", "medium", "prohibited"])("the minimal %s body passes", (gate) => {
    expect(problems({ title: "Rotate logs", gate })).toEqual([]);
  });

  it("hard with a preview passes", () => {
    expect(problems({ title: "Drop table", gate: "hard", preview: "DROP TABLE x; -- 1 table" })).toEqual([]);
  });

  it("onTimeout approve on medium passes", () => {
    expect(problems({ ...base, onTimeout: "approve" })).toEqual([]);
  });

  it("a full body passes and is trimmed", () => {
    const body = {
      title: "  Deploy api  ",
      reason: "hotfix for #42",
      agent: "deployer",
      gate: "hard",
      preview: "kubectl diff: 3 changed",
      deadlineSeconds: 600,
      objectionSeconds: 2.5,
      onTimeout: "deny",
      approvers: { roles: ["ops-lead", "owner"], quorum: 2 },
      callbackUrl: "https://ci.example.test/signoff/callback",
      idempotencyKey: "deploy-api-42",
      metadata: { pr: 42, labels: ["hotfix"] },
      notify: true,
    };
    const parsed = CreateApprovalBodySchema.safeParse(body);
    expect(parsed.success ? [] : toProblems(parsed.error)).toEqual([]);
    expect(parsed.data?.title).toBe("Deploy api");
    expect(parsed.data?.approvers).toEqual({ roles: ["ops-lead", "owner"], quorum: 2 });
  });

  it("the limits themselves are allowed", () => {
    expect(
      problems({ ...base, title: "t".repeat(200), deadlineSeconds: 30 * 86_400, approvers: { quorum: 20 } }),
    ).toEqual([]);
    expect(paths({ ...base, title: "t".repeat(201) })).toEqual(["title"]);
  });
});

describe("query schemas", () => {
  it("wait is seconds up to 60", () => {
    expect(GetApprovalQuerySchema.parse({ wait: "30" })).toEqual({ wait: 30 });
    expect(GetApprovalQuerySchema.safeParse({ wait: "61" }).success).toBe(false);
    expect(GetApprovalQuerySchema.safeParse({ wait: "-1" }).success).toBe(false);
  });

  it("status must be a known status", () => {
    expect(ListApprovalsQuerySchema.parse({ status: "pending" })).toEqual({ status: "pending" });
    const bad = ListApprovalsQuerySchema.safeParse({ status: "open" });
    expect(bad.success ? [] : toProblems(bad.error).map((p) => p.path)).toEqual(["status"]);
  });
});
