-- 002_operations: what sources report (tasks, spend, heartbeats), health-check results,
-- commands to sources, digest sends, spend alerts, and strangers paired as operators.
-- Parameters: none. Forward-only: never edit once shipped; add 004_... instead (003 is taken).

-- Tasks as their source last reported them (upserted by id); commands change them too.
CREATE TABLE tasks (
  id          text PRIMARY KEY,
  source      text NOT NULL,
  title       text NOT NULL,
  state       text NOT NULL CHECK (state IN ('backlog','ready','in-progress','review','done','failed')),
  agent       text,
  priority    integer NOT NULL DEFAULT 0,
  attempts    integer NOT NULL DEFAULT 0,
  error       text,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  -- When the task entered its current state: "stuck in progress for 3h", "failed overnight".
  state_since timestamptz NOT NULL
);
CREATE INDEX tasks_state ON tasks (state, state_since);

-- One row per reported cost; amounts are exact decimals in their own currency.
CREATE TABLE spend (
  id         bigserial PRIMARY KEY,
  source     text NOT NULL,
  amount     numeric(20, 6) NOT NULL,
  currency   text NOT NULL,
  agent      text,
  model      text,
  at         timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spend_at ON spend (at);

CREATE TABLE heartbeats (
  agent      text PRIMARY KEY,
  source     text NOT NULL,
  status     text,
  detail     text,
  last_seen  timestamptz NOT NULL
);

-- Last result of each configured health check; `since` is when its up/down state began.
CREATE TABLE health_results (
  name       text PRIMARY KEY,
  ok         boolean NOT NULL,
  detail     text,
  checked_at timestamptz NOT NULL,
  since      timestamptz NOT NULL
);

-- Commands to sources. A source pulls the ones it has not acknowledged (GET /api/commands);
-- those with a webhook also get a `deliveries` row (kind 'command', subject_id = commands.id).
CREATE TABLE commands (
  id           bigserial PRIMARY KEY,
  source       text NOT NULL,
  task_id      text NOT NULL,
  command      text NOT NULL CHECK (command IN ('kill','retry','prioritise')),
  requested_by text NOT NULL,
  created_at   timestamptz NOT NULL,
  -- The JSON the source receives, identical by webhook and by pull.
  body         text NOT NULL,
  acked_at     timestamptz
);
CREATE INDEX commands_unacked ON commands (source, id) WHERE acked_at IS NULL;

-- One row per digest sent (or being sent): the key makes "never twice" hold across restarts
-- and processes.
CREATE TABLE digest_sends (
  operator     text NOT NULL,
  scheduled_at timestamptz NOT NULL,
  trigger      text NOT NULL,
  sent_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operator, scheduled_at)
);

-- One spend alert per day (in the configured timezone) and currency.
CREATE TABLE spend_alerts (
  day       date NOT NULL,
  currency  text NOT NULL,
  total     numeric(20, 6) NOT NULL,
  threshold numeric(20, 6) NOT NULL,
  sent_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, currency)
);

-- Codes given to strangers; an owner redeems one with `pair <code> as <role>`.
CREATE TABLE pairing_codes (
  code         text PRIMARY KEY,
  channel      text NOT NULL,
  sender_id    text NOT NULL,
  chat_id      text NOT NULL,
  display_name text,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_by      text,
  used_at      timestamptz
);
CREATE INDEX pairing_codes_sender ON pairing_codes (channel, sender_id, created_at DESC);

-- Operators admitted in chat, beside the configured ones.
CREATE TABLE paired_operators (
  name         text PRIMARY KEY,
  roles        text[] NOT NULL,
  channel      text NOT NULL,
  sender_id    text NOT NULL,
  chat_id      text NOT NULL,
  display_name text,
  paired_by    text NOT NULL,
  paired_at    timestamptz NOT NULL,
  UNIQUE (channel, sender_id)
);
