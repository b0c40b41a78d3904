import { describe, expectTypeOf, it } from "vitest";
import type { RowOf, SnakeCase } from "../../../src/lib/row-shape.js";

describe("RowOf", () => {
  it("names every field in snake_case and keeps its type", () => {
    expectTypeOf<SnakeCase<"objectionEndsAt">>().toEqualTypeOf<"objection_ends_at">();
    expectTypeOf<SnakeCase<"id">>().toEqualTypeOf<"id">();
    expectTypeOf<RowOf<{ createdAt: Date; approverRoles: string[]; note: string | null }>>().toEqualTypeOf<{
      created_at: Date;
      approver_roles: string[];
      note: string | null;
    }>();
  });
});
