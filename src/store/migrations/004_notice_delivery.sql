-- When the first notice of a `low` request reached an eligible operator. No one can object to
-- what they never saw: the objection window counts from this moment, and a request whose notice
-- was not delivered within the window's length becomes `medium` instead of being approved.
-- objection_seconds keeps the window's length so it can be re-counted from the delivery.
ALTER TABLE approvals ADD COLUMN notice_delivered_at timestamptz;
ALTER TABLE approvals ADD COLUMN objection_seconds double precision;
-- Requests already waiting when this shipped were announced the old way: treat them as seen.
UPDATE approvals SET notice_delivered_at = created_at,
                     objection_seconds = EXTRACT(EPOCH FROM (objection_ends_at - created_at))
 WHERE objection_ends_at IS NOT NULL;
