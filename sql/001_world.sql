-- Rooms are worlds (DESIGN §4). `version` is the fence: every batch bumps it by one,
-- and only the writer that read the current version may bump it.
CREATE TABLE rooms (
  id             text PRIMARY KEY,
  title          text NOT NULL,
  subject        text NOT NULL,
  start_location integer NOT NULL,
  seed           bigint NOT NULL DEFAULT 0,
  version        bigint NOT NULL DEFAULT 0,
  last_batch     uuid,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- Locations are numbered per room (idx) so the engine can index flat tables.
CREATE TABLE locations (
  room_id     text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  idx         integer NOT NULL,
  key         text NOT NULL,
  title       text NOT NULL,
  description text NOT NULL,
  PRIMARY KEY (room_id, idx),
  UNIQUE (room_id, key)
);

-- direction: 0 north, 1 east, 2 south, 3 west, 4 up, 5 down (lib/engines/protocol.ts).
CREATE TABLE exits (
  room_id   text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  from_idx  integer NOT NULL,
  direction smallint NOT NULL CHECK (direction BETWEEN 0 AND 5),
  to_idx    integer NOT NULL,
  PRIMARY KEY (room_id, from_idx, direction)
);

-- A character is bound to the bare JID that created it; `present` says whether its
-- player is in the room right now.
CREATE TABLE characters (
  room_id  text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  id       integer NOT NULL,
  nick     text NOT NULL,
  jid      text NOT NULL,
  location integer NOT NULL,
  present  boolean NOT NULL,
  PRIMARY KEY (room_id, id),
  UNIQUE (room_id, nick)
);

-- One row per committed batch: enough to replay a room from its initial world.
CREATE TABLE command_log (
  room_id   text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  version   bigint NOT NULL,
  batch_id  uuid NOT NULL,
  commands  jsonb NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, version)
);
