-- 001_approvals: approvals, decisions, the hash-chained audit log, inbound dedupe,
-- card references, outbound deliveries (callbacks) and settings (pause).
-- Parameters: none. Forward-only: never edit once shipped; add 002_... instead.

CREATE TABLE approvals (
  id                uuid PRIMARY KEY,
  code              text NOT NULL,
  source            text NOT NULL,
  title             text NOT NULL,
  reason            text,
  agent             text,
  gate              text NOT NULL CHECK (gate IN ('auto','low','medium','hard','prohibited')),
  effective_gate    text NOT NULL CHECK (effective_gate IN ('auto','low','medium','hard','prohibited')),
  preview           text,
  status            text NOT NULL CHECK (status IN ('pending','approved','rejected','changes_requested','cancelled')),
  decided_by        text,
  decided_at        timestamptz,
  note              text,
  on_timeout        text NOT NULL CHECK (on_timeout IN ('approve','deny')),
  approver_roles    text[] NOT NULL,
  quorum            integer NOT NULL CHECK (quorum >= 1),
  callback_url      text,
  idempotency_key   text,
  metadata          jsonb,
  notify            boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL,
  deadline_at       timestamptz,
  objection_ends_at timestamptz,
  version           integer NOT NULL DEFAULT 0
);
-- A code is typed by people, so it must name one pending request; decided ones may reuse it.
CREATE UNIQUE INDEX approvals_pending_code ON approvals (code) WHERE status = 'pending';
CREATE UNIQUE INDEX approvals_idempotency ON approvals (source, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX approvals_pending ON approvals (created_at) WHERE status = 'pending';
CREATE INDEX approvals_code ON approvals (code, created_at DESC);

CREATE TABLE decisions (
  id          bigserial PRIMARY KEY,
  approval_id uuid NOT NULL REFERENCES approvals (id),
  operator    text NOT NULL,
  verdict     text NOT NULL CHECK (verdict IN ('approve','reject','modify')),
  note        text,
  channel     text NOT NULL,
  at          timestamptz NOT NULL
);
CREATE INDEX decisions_approval ON decisions (approval_id, id);

-- Audit entries are written in the same statement as the change they record (no lock, so
-- writers never queue behind each other) and sealed into the hash chain moments later by one
-- sealer at a time: chain_seq, prev_hash and hash are set once, in chain order.
CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL,
  actor     text NOT NULL,
  action    text NOT NULL,
  subject   text,
  data      text NOT NULL,
  chain_seq bigint UNIQUE,
  prev_hash text,
  hash      text
);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE chain_seq IS NULL;

-- Append-only: rows are never deleted, and the only update allowed is sealing an unsealed row
-- without touching its content. `signoff audit verify` still catches edits made by someone who
-- disables this trigger.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
     AND NEW.subject IS NOT DISTINCT FROM OLD.subject AND NEW.data = OLD.data THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- Row triggers do not see TRUNCATE.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE processed_messages (
  channel      text NOT NULL,
  event_id     text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, event_id)
);

CREATE TABLE card_refs (
  channel     text NOT NULL,
  chat_id     text NOT NULL,
  message_id  text NOT NULL,
  approval_id uuid NOT NULL REFERENCES approvals (id),
  kind        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, chat_id, message_id)
);
CREATE INDEX card_refs_approval ON card_refs (approval_id);

CREATE TABLE deliveries (
  id          bigserial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('callback','command')),
  subject_id  text NOT NULL,
  url         text NOT NULL,
  body        text NOT NULL,
  status      text NOT NULL CHECK (status IN ('pending','delivered','dead')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, subject_id)
);
CREATE INDEX deliveries_open ON deliveries (status) WHERE status <> 'delivered';

CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
