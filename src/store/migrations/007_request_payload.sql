-- 007_request_payload: what a tool asks to run and on whose behalf. `action` is a stable machine
-- key (deploy:staging, Bash); `payload` is kept as json (not jsonb) so it reads back exactly as the
-- source sent it, key order included, and `payload_sha256` is the hex SHA-256 of its RFC 8785
-- canonical form, NULL when no payload was sent (a payload may itself be JSON null).
-- `requested_by` names the operator a tool asks for: their own approval does not count unless
-- `allow_self_approval`. Parameters: none. Forward-only: never edit once shipped.
ALTER TABLE approvals ADD COLUMN action text;
ALTER TABLE approvals ADD COLUMN payload json;
ALTER TABLE approvals ADD COLUMN payload_sha256 text CHECK (payload_sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE approvals ADD COLUMN requested_by text;
ALTER TABLE approvals ADD COLUMN allow_self_approval boolean NOT NULL DEFAULT false;
