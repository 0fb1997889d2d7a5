-- Items, NPCs, locked exits, hit points and quests. Items and NPCs are
-- numbered per room like locations; an NPC is also a character (same id), so the
-- engine's character tables hold both and NPC names are taken nicks.

-- A walker must carry this item (items.idx) to pass; NULL: the way is open.
ALTER TABLE exits ADD COLUMN key_item integer;

CREATE TABLE items (
  room_id     text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  idx         integer NOT NULL,
  key         text NOT NULL,
  name        text NOT NULL,
  keywords    text[] NOT NULL,
  description text NOT NULL,
  weight      integer NOT NULL CHECK (weight >= 0),
  damage      integer NOT NULL CHECK (damage >= 0),
  home        integer NOT NULL,
  -- Where it is now: a location idx (>= 0), or -(character id) - 1 when carried.
  place       integer NOT NULL,
  PRIMARY KEY (room_id, idx),
  UNIQUE (room_id, key)
);

CREATE TABLE npcs (
  room_id     text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  id          integer NOT NULL,
  key         text NOT NULL,
  keywords    text[] NOT NULL,
  description text NOT NULL,
  hp          integer NOT NULL CHECK (hp > 0),
  damage      integer NOT NULL CHECK (damage > 0),
  home        integer NOT NULL,
  wander      boolean NOT NULL,
  wants       integer,
  thanks      text,
  PRIMARY KEY (room_id, id),
  UNIQUE (room_id, key),
  FOREIGN KEY (room_id, id) REFERENCES characters (room_id, id) ON DELETE CASCADE
);

ALTER TABLE characters ADD COLUMN hp integer NOT NULL DEFAULT 10;
ALTER TABLE characters ADD COLUMN quest boolean NOT NULL DEFAULT false;

-- The PRNG state the world started from: with the command log, enough to replay it.
ALTER TABLE rooms ADD COLUMN initial_seed bigint NOT NULL DEFAULT 0;
