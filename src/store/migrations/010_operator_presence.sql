-- 010_operator_presence: operators away (with an optional delegate who gets their cards and may
-- answer for them), a digest schedule for operators paired in chat, and the indexes the circuit
-- breaker counts with (operators' rejections and dead letters in its window).
-- An away row past `away_until` means nothing: routing and status ignore it, `back` deletes it.
-- Parameters: none. Forward-only: never edit once shipped.
CREATE TABLE operator_presence (
  operator   text PRIMARY KEY,
  away_until timestamptz NOT NULL,
  delegate   text,
  set_by     text NOT NULL,
  set_at     timestamptz NOT NULL,
  CHECK (delegate IS NULL OR delegate <> operator)
);

-- A paired operator's digest cron (their timezone); NULL: no digest. Configured operators keep
-- theirs in the config file.
ALTER TABLE paired_operators ADD COLUMN digest text;

CREATE INDEX approvals_rejected ON approvals (decided_at) WHERE status = 'rejected';
CREATE INDEX deliveries_dead ON deliveries (updated_at) WHERE status = 'dead';
