-- 005_audit_seal_versions: what `signoff audit verify` needs to check the chain without ever
-- sealing it itself. Parameters: none. Forward-only: never edit once shipped.
--
-- hash_version: the formula that sealed a row. NULL is the first formula (`at` to the
-- millisecond), which every row sealed before this column existed used: those chains keep
-- verifying unchanged. 2 hashes `at` as stored, to the microsecond, with unambiguous fields.
ALTER TABLE audit_log ADD COLUMN hash_version smallint;

-- appended_at: when the database took the row, by its own clock (`at` is the application's).
-- A row still unsealed long after it was appended lost its seal (or signoff stopped before
-- sealing it): verify reports it instead of sealing it. NULL for rows appended before this
-- column existed. Set as a default afterwards so existing rows are not rewritten.
ALTER TABLE audit_log ADD COLUMN appended_at timestamptz;
ALTER TABLE audit_log ALTER COLUMN appended_at SET DEFAULT statement_timestamp();

-- Sealing still may not touch the content, and now not when the row was appended either.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.action = OLD.action
     AND NEW.subject IS NOT DISTINCT FROM OLD.subject AND NEW.data = OLD.data
     AND NEW.appended_at IS NOT DISTINCT FROM OLD.appended_at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
