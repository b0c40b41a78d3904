/** What `npm start` prints once running: where to look, demo mode's first request, and warnings. */
import { describe, expect, it } from "vitest";
import { FileConfigSchema, type Config } from "../../src/config.js";
import { welcome } from "../../src/main.js";

function running(file: Record<string, unknown>, demo: Config["demo"] = null) {
  const config = { file: FileConfigSchema.parse(file), configPath: "signoff.yaml", demo } as unknown as Config;
  return { url: "http://127.0.0.1:3000", config, webchat: null };
}

describe("welcome", () => {
  it("warns when no operator can approve, naming the roles and the file", () => {
    const text = welcome(running({ operators: [{ name: "vic", roles: ["viewer"] }] }));
    expect(text).toContain("warning: no operator holds approver or owner");
    expect(text).toContain("signoff.yaml");
    expect(welcome(running({ operators: [] }))).toContain("warning:");
  });

  it("says nothing of the kind when someone can approve", () => {
    expect(welcome(running({ operators: [{ name: "ann", roles: ["owner"] }] }))).not.toContain("warning");
  });

  it("in demo mode prints a curl line with the kept token", () => {
    const text = welcome(running({ operators: [{ name: "you", roles: ["owner"] }] }, { token: "demo_abc", file: "x" }));
    expect(text).toMatch(
      /curl -sS -X POST http:\/\/127\.0\.0\.1:3000\/api\/approvals -H 'Authorization: Bearer demo_abc'/,
    );
  });
});
