-- Every running Flux instance (`bin/flux status`): one row, upserted by
-- the instance every heartbeat interval in one statement. heard_at is the
-- database's clock, so instances on hosts whose clocks disagree still compare.
-- 008, not 007: main already has 007_undo.sql, and two files with one number would
-- apply only one of them.
CREATE TABLE instances (
  id text PRIMARY KEY,
  host text NOT NULL,
  pid integer NOT NULL,
  domain text NOT NULL,
  started_at timestamptz NOT NULL,
  heard_at timestamptz NOT NULL,
  -- online: the component stream is up; standby: another instance has the domain
  -- (Prosody); offline: reconnecting to the XMPP server; stopped: shut down cleanly.
  state text NOT NULL,
  rooms text[] NOT NULL,
  commands_per_s real NOT NULL,
  heartbeat_ms integer NOT NULL
);
