-- @undo: each builder's last building commands, kept with the room so
-- that they survive a restart and roll back with a batch that does not commit.
-- `cells` is the character's ring as the rules keep it (lib/engines/protocol.ts
-- UNDO_I32S: the next step, the steps kept, then (kind, x, y, z) per step).
CREATE TABLE undo_steps (
  room_id      text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  character_id integer NOT NULL,
  cells        integer[] NOT NULL,
  PRIMARY KEY (room_id, character_id)
);
-- The title or description a step replaced (the rules never see texts), by
-- slot = character * UNDO_STEPS_MAX + step; a later step in that slot overwrites it.
CREATE TABLE undo_texts (
  room_id text NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  slot    integer NOT NULL,
  text    text NOT NULL,
  PRIMARY KEY (room_id, slot)
);
