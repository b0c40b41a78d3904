/**
 * Requests from tools through the real HTTP API, PostgreSQL and the web chat: action, payload and
 * its payloadSha256 in the real answers and the signed callback; a requester who cannot approve
 * their own request on any channel (but can reject it) unless allowSelfApproval; the refusals
 * that name their field; an idempotency key reused with another payload.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Signoff } from "../../src/main.js";
import { signedBySignoff, startCallbackReceiver } from "../helpers/callback-receiver.js";
import { api, cleanupTestInstance, eventually, startTestSignoff } from "../helpers/harness.js";

let s: Signoff & { schema: string; prefix: string };
let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;

beforeAll(async () => {
  [s, receiver] = await Promise.all([startTestSignoff(), startCallbackReceiver()]);
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
  await cleanupTestInstance(s.schema, s.prefix);
});

// Sent as raw text with its keys out of order; the canonical form is written out by hand (RFC 8785:
// keys sorted by UTF-16 code units, no whitespace, 1.50 → 1.5, 2e3 → 2000, unicode as is).
const PAYLOAD_TEXT = '{"script": "deploy.sh", "args": ["--env", "staging"], "é": "ünï ✓", "Z": 1.50, "n": 2e3}';
const CANONICAL = '{"Z":1.5,"args":["--env","staging"],"n":2000,"script":"deploy.sh","é":"ünï ✓"}';
const DIGEST = createHash("sha256").update(CANONICAL, "utf8").digest("hex");

/** A create body as raw JSON text, so the payload goes out exactly as written. */
const rawBody = (fields: Record<string, unknown>, payloadText = PAYLOAD_TEXT) =>
  `${JSON.stringify(fields).slice(0, -1)}, "payload": ${payloadText}}`;

const cardFor = (chat: string, code: string) =>
  eventually(
    () => s.webchat!.history(chat).find((m) => m.from === "bot" && m.text.includes(code) && m.buttons.length > 0),
    `card ${code} in ${chat}'s chat`,
  );
const record = async (id: string) => (await api(s, "GET", `/api/approvals/${id}`)).body;
const selfReply = (chat: string, code: string, after: number) =>
  eventually(
    () =>
      s
        .webchat!.history(chat)
        .slice(after)
        .find((m) => m.from === "bot" && m.text.includes(`You asked for this one (${code})`)),
    `self-approval reply to ${chat}`,
  );

describe("payload binding", () => {
  it("answers, stores and calls back with payloadSha256 of the canonical payload", async () => {
    const fields = {
      title: "deploy staging",
      gate: "medium",
      action: "deploy:staging",
      callbackUrl: receiver.url,
      idempotencyKey: "bind-1",
    };
    const created = await api(s, "POST", "/api/approvals", rawBody(fields));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      action: "deploy:staging",
      payloadSha256: DIGEST,
      requestedBy: null,
      allowSelfApproval: false,
    });
    expect(created.body.payload).toEqual(JSON.parse(PAYLOAD_TEXT));
    expect(Object.keys(created.body.payload), "stored as sent, key order included").toEqual([
      "script",
      "args",
      "é",
      "Z",
      "n",
    ]);
    expect(await record(created.body.id)).toMatchObject({ payloadSha256: DIGEST, action: "deploy:staging" });
    const [audited] = await s.audit.listBySubject(created.body.id);
    expect(audited).toMatchObject({
      action: "approval.created",
      data: { action: "deploy:staging", payloadSha256: DIGEST },
    });
    const listed = (await api(s, "GET", "/api/approvals?status=pending")).body.approvals;
    expect(listed.find((a: { id: string }) => a.id === created.body.id)?.payloadSha256).toBe(DIGEST);

    const card = await cardFor("adam", created.body.code);
    expect(card.text).toContain(`Action: deploy:staging · payload ${DIGEST.slice(0, 8)}`);

    // The same key and the same payload, keys in another order: the same request.
    const reordered = '{"n": 2000, "Z": 1.5, "é": "ünï ✓", "args": ["--env", "staging"], "script": "deploy.sh"}';
    const again = await api(s, "POST", "/api/approvals", rawBody(fields, reordered));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: created.body.id, payloadSha256: DIGEST });

    // The same key with another payload is not the same request.
    const other = await api(s, "POST", "/api/approvals", rawBody(fields, '{"script": "rm -rf /"}'));
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({
      error: "conflict",
      problems: [{ path: "payload", message: "idempotencyKey reused with a different payload" }],
    });
    const noPayload = await api(s, "POST", "/api/approvals", fields);
    expect(noPayload.status).toBe(409);

    await s.webchat!.operatorSays("adam", `approve ${created.body.code}`);
    const delivered = await eventually(() => receiver.successes()[0], "the callback");
    expect(signedBySignoff(delivered)).toBe(true);
    const body = JSON.parse(delivered.body);
    expect(body).toMatchObject({ id: created.body.id, status: "approved", payloadSha256: DIGEST });
    expect(body.payload).toEqual(JSON.parse(PAYLOAD_TEXT));
  });

  it("refuses payloads over the limits, naming payload", async () => {
    const deep = `${"[".repeat(40)}0${"]".repeat(40)}`;
    for (const payloadText of [deep, JSON.stringify({ blob: "x".repeat(17_000) }), '{"n": 1e999}']) {
      const res = await api(s, "POST", "/api/approvals", rawBody({ title: "too much", gate: "medium" }, payloadText));
      expect(res.status, payloadText.slice(0, 40)).toBe(400);
      expect(res.body.problems.map((p: { path: string }) => p.path)).toEqual(["payload"]);
    }
  });
});

describe("self-approval", () => {
  const ask = async (over: Record<string, unknown> = {}) => {
    const res = await api(s, "POST", "/api/approvals", {
      title: "run Bash for eve",
      gate: "medium",
      action: "Bash",
      payload: { command: "make deploy" },
      requestedBy: "eve",
      ...over,
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  it("does not count the requester's approval on any channel, tells them why, and counts another's", async () => {
    const a = await ask();
    expect(a).toMatchObject({ requestedBy: "eve", allowSelfApproval: false });
    const card = await cardFor("eve", a.code);
    expect(card.text).toContain("Asked by: eve");
    const approve = card.buttons.find((b) => b.label.includes("Approve"))!;

    // A bare yes (this is eve's only pending request), a text command, a reply, a reaction, a button.
    const answers: Array<() => Promise<unknown>> = [
      () => s.webchat!.operatorSays("eve", "yes"),
      () => s.webchat!.operatorSays("eve", `approve ${a.code}`),
      () => s.webchat!.operatorSays("eve", "✅ fine by me", card.id),
      () => s.webchat!.operatorReacts("eve", card.id, "👍"),
    ];
    for (const give of answers) {
      const seen = s.webchat!.history("eve").length;
      await give();
      await selfReply("eve", a.code, seen);
      expect((await record(a.id)).status).toBe("pending");
    }
    const toast = await s.webchat!.operatorPresses("eve", card.id, approve.data);
    expect(toast).toBe("Someone else has to approve");
    const still = await record(a.id);
    expect(still).toMatchObject({ status: "pending", decisions: [] });
    const refused = (await s.audit.listBySubject(a.id)).filter((e) => e.action === "approval.answer_refused");
    expect(refused).toHaveLength(5);
    expect(refused[0]?.data).toMatchObject({ reason: "self_approval" });

    await s.webchat!.operatorSays("bob", `approve ${a.code}`);
    expect(await record(a.id)).toMatchObject({ status: "approved", decidedBy: "bob" });
  });

  it("lets the requester reject their own request", async () => {
    const a = await ask();
    await s.webchat!.operatorSays("eve", `reject ${a.code} changed my mind`);
    expect(await record(a.id)).toMatchObject({ status: "rejected", decidedBy: "eve", note: "changed my mind" });
  });

  it("counts the requester's approval when the request allows it", async () => {
    const a = await ask({ allowSelfApproval: true });
    expect(a.allowSelfApproval).toBe(true);
    await s.webchat!.operatorSays("eve", `approve ${a.code}`);
    expect(await record(a.id)).toMatchObject({ status: "approved", decidedBy: "eve" });
  });

  it("refuses an unknown requester, and one who alone could approve, naming requestedBy", async () => {
    const unknown = await api(s, "POST", "/api/approvals", { title: "x", gate: "medium", requestedBy: "mallory" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.problems).toEqual([{ path: "requestedBy", message: "no operator is named mallory" }]);

    // bob is the only ops-lead
    const alone = await api(s, "POST", "/api/approvals", {
      title: "x",
      gate: "hard",
      preview: "p",
      requestedBy: "bob",
      approvers: { roles: ["ops-lead"] },
    });
    expect(alone.status).toBe(400);
    expect(alone.body.problems.map((p: { path: string }) => p.path)).toEqual(["requestedBy"]);
    const pending = (await api(s, "GET", "/api/approvals?status=pending")).body.approvals;
    expect(
      pending.filter((a: { title: string }) => a.title === "x"),
      "nothing was stored",
    ).toEqual([]);
  });
});

describe("the API document", () => {
  it("lists the tool fields in the create body and the record", async () => {
    const doc = (await api(s, "GET", "/api/openapi.json", undefined, null)).body;
    const post = doc.paths["/api/approvals"].post;
    const body = Object.keys(post.requestBody.content["application/json"].schema.properties);
    expect(body).toEqual(expect.arrayContaining(["action", "payload", "requestedBy", "allowSelfApproval"]));
    const answer = Object.keys(post.responses["201"].content["application/json"].schema.properties);
    expect(answer).toEqual(
      expect.arrayContaining(["action", "payload", "payloadSha256", "requestedBy", "allowSelfApproval"]),
    );
  });
});
