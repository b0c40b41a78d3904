-- 009_standing_rules: standing approvals. An approver's "✅ always" on a medium card with an
-- `action` stores a rule here (shown as R<id>); later medium requests from the same source with
-- the same action (and agent, unless the rule has none) are approved at once by it. A rule ends
-- when it expires (`expires_at`) or is revoked (`revoked_at`, `revoked_by`); rows are never
-- deleted, so the audit trail's `rule:R<id>` always names a row. `use_count`/`last_used_at` are
-- kept for `rules`; the audit log (`rule.used`) is the record of each use.
-- Requests a rule approved carry `decided_by = 'rule:R<id>'`; the partial index finds them for
-- the digest without touching other approvals. Parameters: none. Forward-only: never edit once shipped.
CREATE TABLE standing_rules (
  id           bigserial PRIMARY KEY,
  source       text NOT NULL,
  action       text NOT NULL,
  agent        text,
  created_by   text NOT NULL,
  created_from uuid,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  use_count    integer NOT NULL DEFAULT 0,
  revoked_at   timestamptz,
  revoked_by   text,
  CHECK (expires_at > created_at),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
-- The lookup made inside every matching create: live rules of one source and action.
CREATE INDEX standing_rules_live ON standing_rules (source, action, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX approvals_decided_by_rule ON approvals (decided_at) WHERE decided_by LIKE 'rule:%';
