-- 008_reminders_escalation: reminders and the escalation ladder of a request waiting for a person.
-- `remind` is what the request asked (false: no reminders); `remind_at` the reminder times fixed at
-- creation and `reminders_sent` how many of them are done, so a re-created timer never reminds
-- twice. `escalation` is the ladder as JSON ([{"afterSeconds": 600, "roles": ["ops-lead"]}]) and
-- `escalation_level` how many of its steps were taken: their roles may answer too.
-- Rows from before keep no reminders and no ladder. Parameters: none. Forward-only: never edit once shipped.
ALTER TABLE approvals ADD COLUMN remind boolean NOT NULL DEFAULT true;
ALTER TABLE approvals ADD COLUMN remind_at timestamptz[] NOT NULL DEFAULT '{}';
ALTER TABLE approvals ADD COLUMN reminders_sent integer NOT NULL DEFAULT 0 CHECK (reminders_sent >= 0);
ALTER TABLE approvals ADD COLUMN escalation jsonb NOT NULL DEFAULT '[]';
ALTER TABLE approvals ADD COLUMN escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0);
