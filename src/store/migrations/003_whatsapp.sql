-- 003_whatsapp: the WhatsApp (Baileys) session in PostgreSQL instead of files: credentials with
-- a last-good copy, signal keys (sessions, pre-keys, sender keys, app-state keys, LID mappings),
-- and the messages we sent (for Baileys' retry requests and for quoting a card in a follow-up).
-- Parameters: none. Forward-only: never edit once shipped.
-- `account` names one linked WhatsApp account ("default" unless configured otherwise).

CREATE TABLE whatsapp_auth_creds (
  account         text PRIMARY KEY,
  -- BufferJSON text of Baileys' AuthenticationCreds and its hex SHA-256, checked on every read.
  creds           text NOT NULL,
  creds_sha256    text NOT NULL,
  -- The write before `creds`, kept only while that write was intact: what a load falls back to
  -- when `creds` turns out torn or unreadable, so the account is never locked out.
  previous        text,
  previous_sha256 text,
  writes          bigint NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE whatsapp_auth_keys (
  account    text NOT NULL,
  type       text NOT NULL,
  id         text NOT NULL,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, type, id)
);

CREATE TABLE whatsapp_sent_messages (
  account       text NOT NULL,
  message_id    text NOT NULL,
  chat_id       text NOT NULL,
  -- The protobuf-encoded message content (proto.Message), as WhatsApp needs it for a retry.
  message       bytea NOT NULL,
  -- Set on follow-ups of a card, so a retried edit does not post the same follow-up twice.
  follow_up_key text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account, message_id)
);
CREATE INDEX whatsapp_sent_messages_age ON whatsapp_sent_messages (account, created_at);
CREATE UNIQUE INDEX whatsapp_sent_messages_follow_up ON whatsapp_sent_messages (account, follow_up_key)
  WHERE follow_up_key IS NOT NULL;
